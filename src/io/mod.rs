//! Files: LaueTools' text formats and image output.

pub mod det;
pub mod fit;
pub mod frame;
pub mod image;
#[cfg(not(target_arch = "wasm32"))]
pub mod output;
pub mod peaklist;
pub mod text;
pub mod tiff_out;

pub use det::{DetFile, DetRecord, det_text, utc_string};
pub use fit::FitFile;
pub use frame::{Frame, Pixels};
pub use image::{ImageFormat, MaskImage, ReadOptions, apply_mask, read_image, read_mask};
pub use tiff_out::{tiff_u16_bytes, write_tiff_u16};
