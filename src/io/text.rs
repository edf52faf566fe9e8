//! Text of LaueTools' files as they are found in the wild: UTF-8 with or without a byte-order mark,
//! UTF-16 with its mark (files saved by Windows editors), and Latin-1 (comments typed on older systems,
//! "dégradé", "µm"). The parsers take `&str`; [`decode`] turns a file's bytes into that text, and every
//! parser also drops a leading byte-order mark itself ([`strip_bom`]), so text handed over by the page
//! reads the same.
//!
//! Latin-1 is the fallback for bytes that are not UTF-8: each byte is its own character, so comments
//! keep their meaning and a stray byte inside a number still fails that number's parse with the line
//! named. Bytes that cannot be text at all (a NUL byte in the first 64 kB: an image given where a text
//! file was expected) are refused with the offset named.

use crate::error::{LaueError, Result};

/// The UTF-8 encoding of U+FEFF, the byte-order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How far [`decode`] looks for a NUL byte (binary data) before decoding.
const BINARY_PROBE: usize = 64 * 1024;

/// `text` without a leading byte-order mark (U+FEFF).
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The text of a file's `bytes`: UTF-8 (a leading byte-order mark dropped), UTF-16 when it starts with
/// its byte-order mark, otherwise Latin-1 (ISO 8859-1, one character per byte). `file` names the source
/// in the error given for binary data (a NUL byte in the first 64 kB of a file that is not UTF-16).
pub fn decode(bytes: &[u8], file: &str) -> Result<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, file, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, file, u16::from_be_bytes);
    }
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if let Some(at) = bytes.iter().take(BINARY_PROBE).position(|&b| b == 0) {
        return Err(LaueError::parse(
            file,
            format!("binary data (a NUL byte at offset {at}), not a text file; is this an image?"),
        ));
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    })
}

fn utf16(bytes: &[u8], file: &str, word: fn([u8; 2]) -> u16) -> Result<String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(LaueError::parse(file, "UTF-16 text (byte-order mark) with an odd number of bytes"));
    }
    let words = bytes.chunks_exact(2).map(|c| word([c[0], c[1]]));
    Ok(char::decode_utf16(words).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBF2theta chi", "f").unwrap(), "2theta chi");
        assert_eq!(decode("# d\u{e9}grad\u{e9}\n1 2".as_bytes(), "f").unwrap(), "# d\u{e9}grad\u{e9}\n1 2");
        // Latin-1 é (0xE9) and µ (0xB5): not UTF-8, read one character per byte.
        assert_eq!(
            decode(b"# d\xE9grad\xE9 5 \xB5m\n1 2", "f").unwrap(),
            "# d\u{e9}grad\u{e9} 5 \u{b5}m\n1 2"
        );
        assert_eq!(decode(b"\xFF\xFEa\0b\0", "f").unwrap(), "ab");
        assert_eq!(decode(b"\xFE\xFF\0a\0b", "f").unwrap(), "ab");
        assert!(decode(b"\xFF\xFEa", "f").unwrap_err().to_string().contains("odd number"));
        let e = decode(b"II*\0\x08\0", "img.det").unwrap_err().to_string();
        assert!(e.starts_with("img.det: binary data (a NUL byte at offset 3)"), "{e}");
        assert_eq!(strip_bom("\u{feff}x"), "x");
        assert_eq!(strip_bom("x"), "x");
    }
}
