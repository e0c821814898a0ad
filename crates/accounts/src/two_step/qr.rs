//! The enrolment QR code, drawn by the server as SVG (the `qrcode` crate's SVG renderer), so the
//! page needs no script and the secret never reaches a third party.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// The data does not fit in a QR code at medium error correction (about 2,300 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too much data for a QR code")]
pub struct QrTooLong;

/// `data` as an SVG QR code, ready to be placed inline in a page.
///
/// Medium error correction, the standard four-module quiet zone, dark modules `#000` on `#fff`.
/// One module is one unit of the `viewBox` and there is no `width` or `height`, so CSS sizes it
/// (it fills its container's width unless told otherwise). It carries `role="img"` and
/// `aria-label="{label}"` (escaped) for screen readers. There is no XML prolog.
pub fn qr_svg(data: &str, label: &str) -> Result<String, QrTooLong> {
    let code =
        QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(|_| QrTooLong)?;
    let raw = code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(1, 1)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    let label = escape_attr(label);
    // The renderer writes `<?xml …?><svg xmlns=… version="1.1" width="N" height="N" viewBox=…
    // shape-rendering="crispEdges"><rect …/><path …/></svg>`: keep it from the viewBox on.
    Ok(match (raw.find("<svg"), raw.find(" viewBox=")) {
        (Some(_), Some(v)) => format!(
            r#"<svg xmlns="{SVG_NS}" role="img" aria-label="{label}"{}"#,
            &raw[v..]
        ),
        // Should the renderer's shape change, keep all it wrote and add ours.
        (Some(s), None) => format!(
            r#"<svg role="img" aria-label="{label}"{}"#,
            &raw[s + "<svg".len()..]
        ),
        (None, _) => raw,
    })
}

/// Escapes text for a double- or single-quoted attribute value.
fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use qrcode::Color;

    const URI: &str = "otpauth://totp/Clef:anna?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
                       &issuer=Clef&algorithm=SHA1&digits=6&period=30";
    const QUIET: usize = 4;

    /// The dark modules our SVG draws, as a grid of `side × side` including the quiet zone.
    /// Fails the test on anything in the path but one-module squares.
    fn modules_drawn(svg: &str) -> (usize, Vec<Vec<bool>>) {
        let vb = svg.split(r#"viewBox="0 0 "#).nth(1).unwrap();
        let (side, _) = vb.split_once('"').unwrap();
        let (w, h) = side.split_once(' ').unwrap();
        assert_eq!(w, h);
        let side: usize = w.parse().unwrap();
        let d = svg.split(r##"<path fill="#000" d=""##).nth(1).unwrap();
        let (d, tail) = d.split_once('"').unwrap();
        assert_eq!(tail, "/></svg>");
        let mut grid = vec![vec![false; side]; side];
        for cell in d.split('M').filter(|c| !c.is_empty()) {
            let (x, rest) = cell.split_once(' ').unwrap();
            let (y, _) = rest.split_once('h').unwrap();
            assert_eq!(cell, format!("{x} {y}h1v1H{x}V{y}"), "a one-module square");
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            assert!(!grid[y][x], "drawn twice");
            grid[y][x] = true;
        }
        (side, grid)
    }

    #[test]
    fn an_accessible_scalable_svg() {
        let svg = qr_svg(URI, r#"Scan with "your" app <now> & 'then'"#).unwrap();
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" "#));
        assert!(svg.contains(
            r#"aria-label="Scan with &quot;your&quot; app &lt;now&gt; &amp; &#39;then&#39;""#
        ));
        assert!(svg.contains(r#"viewBox="0 0 "#));
        assert!(!svg.contains("<?xml"));
        let open_tag = &svg[..svg.find('>').unwrap()];
        assert!(!open_tag.contains("width") && !open_tag.contains("height"));
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(svg.contains(r##"fill="#fff""##) && svg.contains(r##"fill="#000""##));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn draws_exactly_the_codes_modules_with_a_quiet_zone() {
        let code = QrCode::with_error_correction_level(URI.as_bytes(), EcLevel::M).unwrap();
        let n = code.width();
        let colors = code.to_colors();
        assert_eq!(colors.len(), n * n);

        let (side, grid) = modules_drawn(&qr_svg(URI, "QR").unwrap());
        assert_eq!(side, n + 2 * QUIET);
        let drawn = grid.iter().flatten().filter(|&&b| b).count();
        let dark = colors.iter().filter(|&&c| c == Color::Dark).count();
        assert_eq!(drawn, dark);
        for (y, row) in grid.iter().enumerate() {
            for (x, &is_dark) in row.iter().enumerate() {
                let inside = (QUIET..QUIET + n).contains(&x) && (QUIET..QUIET + n).contains(&y);
                let want = inside && colors[(y - QUIET) * n + (x - QUIET)] == Color::Dark;
                assert_eq!(is_dark, want, "module ({x}, {y})");
            }
        }
    }

    #[test]
    fn a_decoder_reads_back_the_data_at_medium_correction() {
        let (side, grid) = modules_drawn(&qr_svg(URI, "QR").unwrap());
        // Rasterise the SVG's squares at 4 px a module, as a scanner would see them.
        const PX: usize = 4;
        let mut img = rqrr::PreparedImage::prepare_from_bitmap(side * PX, side * PX, |x, y| {
            grid[y / PX][x / PX]
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        let (meta, content) = grids[0].decode().unwrap();
        assert_eq!(content, URI);
        assert_eq!(meta.ecc_level, 0, "M is format code 00");
    }

    #[test]
    fn too_much_data_is_an_error_not_a_panic() {
        assert_eq!(qr_svg(&"x".repeat(4000), "QR"), Err(QrTooLong));
    }
}
