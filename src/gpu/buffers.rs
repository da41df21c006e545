//! Making buffers and reading them back: the one place that maps GPU memory.

use bytemuck::Pod;

use crate::{Error, Result};

/// A storage buffer of at least `bytes` (rounded up to a word, at least 16 bytes).
pub(crate) fn storage(
    device: &wgpu::Device,
    label: &str,
    bytes: u64,
    extra: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(16).next_multiple_of(4),
        usage: wgpu::BufferUsages::STORAGE | extra,
        mapped_at_creation: false,
    })
}

/// A buffer the host maps to read what the kernels wrote (copied in).
pub(crate) fn mappable(device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(16).next_multiple_of(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// A uniform buffer holding `value` (its size rounded up to 16 bytes, as uniform bindings ask); also
/// a storage buffer, for the software adapters whose kernels bind it so (`kernels::params_in_storage`).
pub(crate) fn uniform<T: Pod>(device: &wgpu::Device, label: &str, value: &T) -> wgpu::Buffer {
    use wgpu::util::DeviceExt;
    let mut contents = bytemuck::bytes_of(value).to_vec();
    contents.resize(contents.len().max(16).next_multiple_of(16), 0);
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: &contents,
        usage: wgpu::BufferUsages::UNIFORM
            | wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST,
    })
}

/// Waits until the device has done all submitted work.
pub(crate) fn wait(device: &wgpu::Device) -> Result<()> {
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: None,
        })
        .map(|_| ())
        .map_err(|e| Error::Device(e.to_string()))
}

/// The first `bytes` of each mappable buffer, as words: every map is asked for, then one wait.
pub(crate) fn read_words(
    device: &wgpu::Device,
    buffers: &[(&wgpu::Buffer, u64)],
) -> Result<Vec<Vec<u32>>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut asked = 0;
    for &(buffer, bytes) in buffers.iter().filter(|(_, bytes)| *bytes > 0) {
        let tx = tx.clone();
        buffer
            .slice(..bytes)
            .map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
        asked += 1;
    }
    if asked > 0 {
        wait(device)?;
    }
    // a map fails when the device has been lost or destroyed (an application's device keeps its own
    // device-lost callback, so this is where its loss shows)
    let failed = |e: &dyn std::fmt::Display| {
        Error::Readback(format!("{e} (was the device lost or destroyed?)"))
    };
    for _ in 0..asked {
        rx.recv().map_err(|e| failed(&e))?.map_err(|e| failed(&e))?;
    }
    buffers
        .iter()
        .map(|&(buffer, bytes)| {
            if bytes == 0 {
                return Ok(vec![]);
            }
            let words = {
                let view = buffer
                    .slice(..bytes)
                    .get_mapped_range()
                    .map_err(|e| Error::Readback(e.to_string()))?;
                bytemuck::cast_slice::<u8, u32>(&view).to_vec()
            };
            buffer.unmap();
            Ok(words)
        })
        .collect()
}

/// A mappable buffer that grows to the largest read asked of it and is kept: reading a
/// data-dependent number of bytes makes no buffer per call.
#[derive(Debug)]
pub(crate) struct Staging {
    label: &'static str,
    buffer: Option<wgpu::Buffer>,
}

impl Staging {
    pub fn new(label: &'static str) -> Self {
        Self {
            label,
            buffer: None,
        }
    }

    /// The buffer, grown to hold at least `bytes`.
    pub fn at_least(&mut self, device: &wgpu::Device, bytes: u64) -> &wgpu::Buffer {
        let small = self.buffer.as_ref().is_none_or(|b| b.size() < bytes);
        if small {
            if let Some(old) = self.buffer.take() {
                old.destroy();
            }
        }
        self.buffer
            .get_or_insert_with(|| mappable(device, self.label, bytes.next_power_of_two()))
    }
}
