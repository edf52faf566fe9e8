//! Where the neural stages run: burn's CPU backend (`flex`, also in wasm), WebGPU in the browser (after an
//! async adapter request, falling back to the CPU when none is available), wgpu natively, or CUDA.

use burn::tensor::{Bytes, DType, Device, Tensor};
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
            _ => Err(LaueError::Device(format!("unknown '{s}': use cpu, wgpu or cuda"))),
        }
    }
}

/// The cores this machine offers (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Worker threads for `--threads`: all cores when not given; refused when 0 or beyond
/// [`crate::limits::THREADS_PER_CORE`] × the cores (more threads than that only add memory and switching:
/// a typo such as `--threads 10000` would otherwise start ten thousand threads).
pub fn thread_count(requested: Option<usize>) -> Result<usize> {
    let cores = cores();
    let Some(n) = requested else { return Ok(cores) };
    if n == 0 {
        return Err(LaueError::Device("--threads 0: need at least 1 worker thread".into()));
    }
    let per_core = crate::limits::THREADS_PER_CORE.value();
    let max = (cores as u64).saturating_mul(per_core);
    if n as u64 > max {
        return Err(LaueError::limit(
            "--threads",
            n,
            format!("{max} ({per_core} per core × {cores} cores)"),
            format!("set {}=N to allow more per core", crate::limits::THREADS_PER_CORE.env),
        ));
    }
    Ok(n)
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
        .map_err(|e| LaueError::Device(format!("wgpu: no adapter ({})", without_debug_text(&e.to_string()))))
}

#[cfg(all(not(target_arch = "wasm32"), not(feature = "wgpu")))]
fn wgpu_native() -> Result<ComputeDevice> {
    Err(LaueError::Device("wgpu: this build has no wgpu support: rebuild with --features wgpu".into()))
}

#[cfg(all(not(target_arch = "wasm32"), feature = "cuda"))]
fn cuda_native() -> Result<ComputeDevice> {
    Ok(ComputeDevice { device: Device::cuda(0), label: "cuda:0".into(), fallback_reason: None })
}

#[cfg(all(not(target_arch = "wasm32"), not(feature = "cuda")))]
fn cuda_native() -> Result<ComputeDevice> {
    Err(LaueError::Device("cuda: this build has no CUDA support: rebuild with --features cuda".into()))
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
        Err(e) => ComputeDevice {
            fallback_reason: Some(format!("WebGPU unavailable: {}", without_debug_text(&e.to_string()))),
            ..cpu()
        },
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
    let data = a.matmul(b).into_data_async().await.map_err(|e| {
        LaueError::Device(format!("read-back failed: {}", without_debug_text(&e.to_string())))
    })?;
    let v: Vec<f32> = data
        .try_to_vec()
        .map_err(|e| LaueError::Device(format!("read-back data: {}", without_debug_text(&e.to_string()))))?;
    match v.as_slice() {
        [x, y] => Ok([*x, *y]),
        _ => Err(LaueError::Device(format!("returned {} values for a 2×1 product (expected 2)", v.len()))),
    }
}

/// A library's multi-line error text on one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// `s` without the `Name { … }` Debug text of library types that some backend errors embed (e.g. burn's
/// "No adapter available for WgpuDevice { kind: DefaultDevice, backend: Auto }"), on one line.
pub(crate) fn without_debug_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for ch in one_line(s).chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    // "WgpuDevice " before a removed block reads as a dangling type name: drop a trailing CamelCase word.
    out.split_whitespace()
        .filter(|w| {
            !(w.len() > 1 && w.chars().next().is_some_and(char::is_uppercase) && w.ends_with("Device"))
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" :", ":")
        .replace(" for:", ":")
}

/// Checks the burnpack weights `bytes` of a model against the network that will receive them: every tensor
/// of `expected` (the freshly made network's tensors, from [`burn::store::ModuleSnapshot::collect`]) present with its
/// shape, and every value finite (f32, f16, bf16 or f64). Errors are [`LaueError::Model`] naming `file` and
/// the tensor, e.g. a model trained with a NaN learning rate or weights of another network shape.
pub fn check_weights(bytes: &[u8], file: &str, expected: &[burn_pack::Tensor]) -> Result<()> {
    let bad = |reason: String| LaueError::model(file, reason);
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| bad(format!("not burnpack weights ({})", one_line(&e.to_string()))))?;
    let tensors = reader
        .into_tensors()
        .map_err(|e| bad(format!("unreadable weights ({})", one_line(&e.to_string()))))?;
    for want in expected {
        let Some(t) = tensors.iter().find(|t| t.name == want.name) else {
            return Err(bad(format!(
                "the weights lack tensor '{}' ({} tensors in the file, the network needs {})",
                want.name,
                tensors.len(),
                expected.len()
            )));
        };
        if t.shape != want.shape {
            return Err(bad(format!(
                "tensor '{}' is {} in the weights, the network described needs {}",
                t.name,
                dims(t.shape.as_slice()),
                dims(want.shape.as_slice())
            )));
        }
        let data =
            t.to_bytes().map_err(|e| bad(format!("tensor '{}': {}", t.name, one_line(&e.to_string()))))?;
        // (bytes per value, exponent mask: all ones is inf or NaN)
        let (width, mask): (usize, u64) = match t.dtype {
            DType::F32 | DType::Flex32 => (4, 0x7F80_0000),
            DType::F16 => (2, 0x7C00),
            DType::BF16 => (2, 0x7F80),
            DType::F64 => (8, 0x7FF0_0000_0000_0000),
            other => {
                return Err(bad(format!(
                    "tensor '{}' holds {} values, not floats",
                    t.name,
                    dtype_name(other)
                )));
            }
        };
        let bad_at = data.chunks_exact(width).position(|c| {
            let mut b = [0u8; 8];
            b[..width].copy_from_slice(c);
            u64::from_le_bytes(b) & mask == mask
        });
        if let Some(i) = bad_at {
            return Err(bad(format!(
                "tensor '{}' value {i} is NaN or infinite (a diverged training?): retrain the model",
                t.name
            )));
        }
    }
    Ok(())
}

/// A tensor that burn refused to load, in words (its Display shows shapes as Rust Debug text).
pub(crate) fn apply_error(e: &burn::store::ApplyError) -> String {
    use burn::store::ApplyError as A;
    let dims =
        |s: &burn::tensor::Shape| s.as_slice().iter().map(usize::to_string).collect::<Vec<_>>().join("×");
    match e {
        A::ShapeMismatch { path, expected, found } => {
            format!("tensor '{path}' is {} in the weights, the network needs {}", dims(found), dims(expected))
        }
        A::DTypeMismatch { path, .. } => format!("tensor '{path}' has another number type"),
        A::AdapterError { path, message } | A::LoadError { path, message } => {
            format!("tensor '{path}': {}", one_line(message))
        }
    }
}

fn dims(d: &[usize]) -> String {
    d.iter().map(usize::to_string).collect::<Vec<_>>().join("×")
}

fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F64 => "f64",
        DType::F32 | DType::Flex32 => "f32",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        DType::I64 => "i64",
        DType::I32 => "i32",
        DType::I16 => "i16",
        DType::I8 => "i8",
        DType::U64 => "u64",
        DType::U32 => "u32",
        DType::U16 => "u16",
        DType::U8 => "u8",
        DType::Bool(_) => "boolean",
        DType::QFloat(_) => "quantised",
    }
}

#[cfg(test)]
mod debug_text_tests {
    use super::without_debug_text;

    #[test]
    fn backend_debug_text_is_removed() {
        let s = "No adapter available for WgpuDevice { kind: DefaultDevice, backend: Auto }: No suitable graphics \
                 adapter found; webgpu found no adapters";
        assert_eq!(
            without_debug_text(s),
            "No adapter available: No suitable graphics adapter found; webgpu found no adapters"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack_tensor(name: &str, dtype: DType, shape: &[usize], bytes: Vec<u8>) -> burn_pack::Tensor {
        burn_pack::Tensor::new(name.into(), dtype, shape.to_vec(), None, Bytes::from_bytes_vec(bytes))
    }

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn weights_are_checked_for_names_shapes_and_finite_values() {
        let want = [
            pack_tensor("l.weight", DType::F32, &[2, 2], vec![0; 16]),
            pack_tensor("l.bias", DType::F32, &[2], vec![0; 8]),
        ];
        let pack = |ts: Vec<burn_pack::Tensor>| burn_pack::Writer::new(ts).into_bytes().unwrap().to_vec();
        let ok = pack(vec![
            pack_tensor("l.weight", DType::F32, &[2, 2], f32_bytes(&[1.0, -2.0, 0.0, 3.5])),
            pack_tensor("l.bias", DType::F32, &[2], f32_bytes(&[0.1, 0.2])),
        ]);
        check_weights(&ok, "m.bpk", &want).unwrap();
        let nan = pack(vec![
            pack_tensor("l.weight", DType::F32, &[2, 2], f32_bytes(&[1.0, -2.0, f32::NAN, 3.5])),
            pack_tensor("l.bias", DType::F32, &[2], f32_bytes(&[0.1, 0.2])),
        ]);
        let e = check_weights(&nan, "m.bpk", &want).unwrap_err().to_string();
        assert_eq!(
            e,
            "model m.bpk: tensor 'l.weight' value 2 is NaN or infinite (a diverged training?): retrain the model"
        );
        // f16 infinity (0x7C00) in the bias
        let inf16 = pack(vec![
            pack_tensor("l.weight", DType::F16, &[2, 2], vec![0; 8]),
            pack_tensor("l.bias", DType::F16, &[2], vec![0, 0x3C, 0x00, 0x7C]),
        ]);
        let e = check_weights(&inf16, "h.bpk", &want).unwrap_err().to_string();
        assert!(e.contains("tensor 'l.bias' value 1 is NaN or infinite"), "{e}");
        let shape = pack(vec![
            pack_tensor("l.weight", DType::F32, &[2, 3], vec![0; 24]),
            pack_tensor("l.bias", DType::F32, &[2], vec![0; 8]),
        ]);
        let e = check_weights(&shape, "s.bpk", &want).unwrap_err().to_string();
        assert_eq!(
            e,
            "model s.bpk: tensor 'l.weight' is 2×3 in the weights, the network described needs 2×2"
        );
        let missing = pack(vec![pack_tensor("l.weight", DType::F32, &[2, 2], vec![0; 16])]);
        let e = check_weights(&missing, "x.bpk", &want).unwrap_err().to_string();
        assert!(e.contains("lack tensor 'l.bias' (1 tensors in the file, the network needs 2)"), "{e}");
        let e = check_weights(b"hello", "t.bpk", &want).unwrap_err().to_string();
        assert!(e.starts_with("model t.bpk: not burnpack weights ("), "{e}");
        assert!(!e.contains("InvalidHeader"), "{e}");
    }

    #[test]
    fn device_errors_say_device() {
        let e = "tpu".parse::<DeviceChoice>().unwrap_err().to_string();
        assert_eq!(e, "device: unknown 'tpu': use cpu, wgpu or cuda");
        assert_eq!(one_line("An error\nCaused by:\n  x\n"), "An error; Caused by:; x");
    }

    #[test]
    fn thread_counts_are_capped() {
        let cores = cores();
        assert_eq!(thread_count(None).unwrap(), cores);
        assert_eq!(thread_count(Some(1)).unwrap(), 1);
        assert!(thread_count(Some(0)).unwrap_err().to_string().contains("--threads 0"));
        let e = thread_count(Some(10_000 * cores)).unwrap_err().to_string();
        assert!(e.contains("--threads") && e.contains("LAUEKIT_MAX_THREADS_PER_CORE"), "{e}");
    }

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
