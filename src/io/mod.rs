//! Files: LaueTools' text formats and image output.

pub mod det;
pub mod fit;
pub mod tiff_out;

pub use det::DetFile;
pub use fit::FitFile;
pub use tiff_out::{tiff_u16_bytes, write_tiff_u16};
