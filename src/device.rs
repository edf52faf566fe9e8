//! Where the neural stages run: burn's CPU backend (`flex`, also in wasm), WebGPU in the browser (after an
//! async adapter request, falling back to the CPU when none is available), wgpu natively, or CUDA.

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result};

/// The device a user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    Cpu,
    Wgpu,
    Cuda,
}

/// A ready device and what it is.
#[derive(Clone)]
pub struct ComputeDevice {
    pub device: Device,
    /// "cpu (flex)", "webgpu", "wgpu", "cuda:0"
    pub label: String,
    /// Why a GPU request fell back to the CPU, if it did.
    pub fallback_reason: Option<String>,
}

impl std::str::FromStr for DeviceChoice {
    type Err = LaueError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" | "flex" => Ok(DeviceChoice::Cpu),
            "wgpu" | "webgpu" | "gpu" => Ok(DeviceChoice::Wgpu),
            "cuda" => Ok(DeviceChoice::Cuda),
            _ => Err(LaueError::InvalidSettings(format!("device '{s}': use cpu, wgpu or cuda"))),
        }
    }
}

// burn/cubecl register plugins through link-time constructors. Unless an export calls the linker's
// `__wasm_call_ctors` itself, wasm-ld treats the module as a "command" and re-runs every constructor at the
// start of every exported function — each call from JS then cost up to seconds. Calling it once (from the
// page's start function, and before any device is made, for hosts such as the test runner that do not run
// the start function) makes the module a "reactor".
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
unsafe extern "C" {
    fn __wasm_call_ctors();
}

/// Runs the wasm module's link-time constructors exactly once (a no-op natively).
pub fn run_wasm_constructors() {
    #[cfg(target_arch = "wasm32")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: the linker-made constructor function, run once per instance before burn is used.
        #[allow(unsafe_code)]
        ONCE.call_once(|| unsafe { __wasm_call_ctors() });
    }
}

/// burn's CPU device (pure Rust; the one that runs everywhere, wasm included).
pub fn cpu() -> ComputeDevice {
    run_wasm_constructors();
    ComputeDevice { device: Device::flex(), label: "cpu (flex)".into(), fallback_reason: None }
}

/// A native device (blocking initialisation).
#[cfg(not(target_arch = "wasm32"))]
pub fn native(choice: DeviceChoice) -> Result<ComputeDevice> {
    match choice {
        DeviceChoice::Cpu => Ok(cpu()),
        DeviceChoice::Wgpu => wgpu_native(),
        DeviceChoice::Cuda => cuda_native(),
    }
}

#[cfg(all(not(target_arch = "wasm32"), feature = "wgpu"))]
fn wgpu_native() -> Result<ComputeDevice> {
    Device::wgpu_options()
        .init()
        .map(|device| ComputeDevice { device, label: "wgpu".into(), fallback_reason: None })
        .map_err(|e| LaueError::InvalidSettings(format!("no wgpu adapter: {e}")))
}

#[cfg(all(not(target_arch = "wasm32"), not(feature = "wgpu")))]
fn wgpu_native() -> Result<ComputeDevice> {
    Err(LaueError::InvalidSettings("this build has no wgpu support: rebuild with --features wgpu".into()))
}

#[cfg(all(not(target_arch = "wasm32"), feature = "cuda"))]
fn cuda_native() -> Result<ComputeDevice> {
    Ok(ComputeDevice { device: Device::cuda(0), label: "cuda:0".into(), fallback_reason: None })
}

#[cfg(all(not(target_arch = "wasm32"), not(feature = "cuda")))]
fn cuda_native() -> Result<ComputeDevice> {
    Err(LaueError::InvalidSettings("this build has no CUDA support: rebuild with --features cuda".into()))
}

#[cfg(feature = "webgpu")]
thread_local! {
    /// The WebGPU device (or the reason there is none), made once per wasm instance: burn's WebGPU runtime is
    /// set up once, and a second `init_async` fails.
    static BROWSER_GPU: std::cell::RefCell<Option<ComputeDevice>> = const { std::cell::RefCell::new(None) };
}

/// In the browser: WebGPU when asked for and available, otherwise the CPU with the reason recorded. The first
/// request makes the WebGPU device; later ones get the same device (or the same fallback).
#[cfg(feature = "webgpu")]
pub async fn browser(prefer_gpu: bool) -> ComputeDevice {
    run_wasm_constructors();
    if !prefer_gpu {
        return cpu();
    }
    if let Some(d) = BROWSER_GPU.with(|g| g.borrow().clone()) {
        return d;
    }
    let d = match Device::wgpu_options().init_async().await {
        Ok(device) => ComputeDevice { device, label: "webgpu".into(), fallback_reason: None },
        Err(e) => ComputeDevice { fallback_reason: Some(format!("WebGPU unavailable: {e}")), ..cpu() },
    };
    BROWSER_GPU.with(|g| *g.borrow_mut() = Some(d.clone()));
    d
}

/// Without WebGPU support compiled in, the browser device is the CPU.
#[cfg(not(feature = "webgpu"))]
pub async fn browser(prefer_gpu: bool) -> ComputeDevice {
    let mut d = cpu();
    if prefer_gpu {
        d.fallback_reason = Some("this build has no WebGPU support".into());
    }
    d
}

/// A 2×2 by 2×1 product on `device`, read back asynchronously: proves the device computes correctly.
/// Returns the two results (expected 17 and 39).
pub async fn self_check(device: &Device) -> Result<[f32; 2]> {
    let a = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], device);
    let b = Tensor::<2>::from_floats([[5.0], [6.0]], device);
    let data = a
        .matmul(b)
        .into_data_async()
        .await
        .map_err(|e| LaueError::InvalidSettings(format!("device read-back failed: {e:?}")))?;
    let v: Vec<f32> =
        data.try_to_vec().map_err(|e| LaueError::InvalidSettings(format!("device data: {e:?}")))?;
    match v.as_slice() {
        [x, y] => Ok([*x, *y]),
        _ => Err(LaueError::InvalidSettings(format!("device returned {} values for a 2×1 product", v.len()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_device_multiplies() {
        let d = cpu();
        let r = block_on(self_check(&d.device)).unwrap();
        assert_eq!(r, [17.0, 39.0]);
        assert_eq!("CUDA".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cuda);
        assert!("tpu".parse::<DeviceChoice>().is_err());
    }

    /// Minimal executor for a future that completes without waking (the CPU backend's read-back).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut cx = Context::from_waker(Waker::noop());
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::yield_now();
        }
    }
}

#[cfg(not(feature = "flex"))]
compile_error!("lauekit needs the `flex` feature: burn's CPU backend is the fallback device everywhere");
