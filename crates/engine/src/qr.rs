//! Turns the text of a pairing QR into what the API returns: a PNG as a data URL.

use base64::Engine as _;
use qrcode::{Color, EcLevel, QrCode};

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("cannot encode the QR: {0}")]
    Encode(String),
    #[error("cannot write the PNG: {0}")]
    Png(String),
}

/// Pixels per QR module, and the quiet zone around the code in modules (the standard asks
/// for 4 so phone cameras find the code).
const SCALE: usize = 8;
const QUIET: usize = 4;

/// A black-on-white grayscale PNG of `text` as a QR code.
pub fn png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L)
        .map_err(|e| QrError::Encode(e.to_string()))?;
    let modules = code.width();
    let side = (modules + 2 * QUIET) * SCALE;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for y in 0..modules {
        for x in 0..modules {
            if colors[y * modules + x] == Color::Dark {
                for dy in 0..SCALE {
                    let row = (y + QUIET) * SCALE + dy;
                    let start = row * side + (x + QUIET) * SCALE;
                    pixels[start..start + SCALE].fill(0);
                }
            }
        }
    }
    let side_u32 = u32::try_from(side).map_err(|e| QrError::Png(e.to_string()))?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| QrError::Png(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| QrError::Png(e.to_string()))?;
    writer.finish().map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out)
}

/// `data:image/png;base64,…` of the QR for `text`.
pub fn data_url(text: &str) -> Result<String, QrError> {
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png(text)?)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_a_real_png_with_the_modules_drawn() {
        let bytes = png("2@abc,def,ghi,jkl").expect("png");
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().expect("a valid PNG");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!(info.width, info.height);
        let pixels = &buf[..info.buffer_size()];
        let dark = pixels.iter().filter(|p| **p == 0).count();
        assert!(
            dark > pixels.len() / 10 && dark < pixels.len() / 2,
            "a QR is drawn"
        );
        assert_eq!(pixels[0], 255, "the quiet zone is white");
        assert!(data_url("x")
            .expect("url")
            .starts_with("data:image/png;base64,iVBOR"));
    }
}
