//! The comparison chart: per workload, one bar per server for throughput and
//! for p99 latency, both on log scales (peers can be two orders of magnitude
//! apart). Drawn once as a list of shapes, then rendered both as SVG (crisp
//! text) and as PNG (a plain RGB raster with the built-in 5×7 font), so no
//! plotting library or system font is needed.

use std::path::Path;

use crate::report::{Report, RunOutcome};

const W: u32 = 1200;
const H: u32 = 620;
const PALETTE: [[u8; 3]; 6] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
];
const INK: [u8; 3] = [30, 30, 30];
const GRID: [u8; 3] = [220, 220, 220];

enum Shape {
    Rect {
        x: i32,
        y: i32,
        w: u32,
        h: u32,
        rgb: [u8; 3],
    },
    /// Text anchored at its horizontal centre; `y` is the top of the line.
    Text {
        x: i32,
        y: i32,
        text: String,
        rgb: [u8; 3],
    },
}

struct Panel<'a> {
    title: &'a str,
    /// Pull the value out of a measured run.
    value: fn(&crate::stats::Summary) -> f64,
    fmt: fn(f64) -> String,
}

fn compact(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn layout(report: &Report) -> Vec<Shape> {
    let mut shapes = vec![Shape::Rect {
        x: 0,
        y: 0,
        w: W,
        h: H,
        rgb: [255, 255, 255],
    }];
    let mode = if report.quick { " (quick mode)" } else { "" };
    shapes.push(Shape::Text {
        x: (W / 2) as i32,
        y: 12,
        text: format!("nimbus vs peers, {} connections{mode}", report.connections),
        rgb: INK,
    });
    // Legend.
    let names: Vec<&str> = report.servers.iter().map(|s| s.name.as_str()).collect();
    for (i, n) in names.iter().enumerate() {
        let x = 80 + i as i32 * 200;
        shapes.push(Shape::Rect {
            x,
            y: 40,
            w: 16,
            h: 16,
            rgb: PALETTE[i % PALETTE.len()],
        });
        shapes.push(Shape::Text {
            x: x + 24 + (n.len() as i32 * 6),
            y: 43,
            text: n.to_string(),
            rgb: INK,
        });
    }
    let panels = [
        Panel {
            title: "throughput req/s (log scale, higher is better)",
            value: |s| s.throughput_rps,
            fmt: compact,
        },
        Panel {
            title: "p99 latency ms (log scale, lower is better)",
            value: |s| s.p99_ms,
            fmt: compact,
        },
    ];
    let mut workloads: Vec<_> = report.results.iter().map(|r| r.workload).collect();
    workloads.dedup();
    let panel_w = (W - 200) / 2;
    for (pi, panel) in panels.iter().enumerate() {
        let x0 = 70 + pi as i32 * (panel_w as i32 + 90);
        let (y0, ph) = (110i32, 420i32);
        shapes.push(Shape::Text {
            x: x0 + panel_w as i32 / 2,
            y: 82,
            text: panel.title.into(),
            rgb: INK,
        });
        let values: Vec<f64> = report
            .results
            .iter()
            .filter_map(|r| match &r.outcome {
                RunOutcome::Measured { result, .. } => Some((panel.value)(&result.summary)),
                _ => None,
            })
            .filter(|v| *v > 0.0)
            .collect();
        let lo = values
            .iter()
            .cloned()
            .fold(f64::INFINITY, f64::min)
            .max(1e-3);
        let hi = values.iter().cloned().fold(0.0, f64::max).max(lo * 10.0);
        let (lmin, lmax) = (lo.log10().floor(), hi.log10().ceil());
        let y_of =
            |v: f64| y0 + ph - (((v.max(1e-9).log10() - lmin) / (lmax - lmin)) * ph as f64) as i32;
        // Decade grid lines with labels.
        let mut d = lmin;
        while d <= lmax {
            let y = y_of(10f64.powf(d));
            shapes.push(Shape::Rect {
                x: x0,
                y,
                w: panel_w,
                h: 1,
                rgb: GRID,
            });
            shapes.push(Shape::Text {
                x: x0 - 28,
                y: y - 4,
                text: compact(10f64.powf(d)),
                rgb: INK,
            });
            d += 1.0;
        }
        shapes.push(Shape::Rect {
            x: x0,
            y: y0 + ph,
            w: panel_w,
            h: 2,
            rgb: INK,
        });
        let group_w = panel_w as i32 / workloads.len().max(1) as i32;
        let bar_w = ((group_w - 20) / names.len().max(1) as i32).max(4);
        for (wi, w) in workloads.iter().enumerate() {
            let gx = x0 + wi as i32 * group_w + 10;
            // Short names, on two staggered rows: nine full workload names
            // do not fit under a 500-pixel panel.
            shapes.push(Shape::Text {
                x: gx + (group_w - 20) / 2,
                y: y0 + ph + 10 + (wi as i32 % 2) * 16,
                text: w.chart_label().into(),
                rgb: INK,
            });
            for (si, name) in names.iter().enumerate() {
                let bx = gx + si as i32 * bar_w;
                let outcome = report.find(*w, name);
                match outcome {
                    Some(RunOutcome::Measured { result, .. }) => {
                        let v = (panel.value)(&result.summary);
                        let top = y_of(v.max(10f64.powf(lmin)));
                        let h = (y0 + ph - top).max(1) as u32;
                        shapes.push(Shape::Rect {
                            x: bx + 2,
                            y: top,
                            w: (bar_w - 4) as u32,
                            h,
                            rgb: PALETTE[si % PALETTE.len()],
                        });
                        shapes.push(Shape::Text {
                            x: bx + bar_w / 2,
                            y: top - 16,
                            text: (panel.fmt)(v),
                            rgb: INK,
                        });
                    }
                    Some(_) | None => {
                        shapes.push(Shape::Text {
                            x: bx + bar_w / 2,
                            y: y0 + ph - 16,
                            text: "n/a".into(),
                            rgb: [120, 120, 120],
                        });
                    }
                }
            }
        }
    }
    shapes.push(Shape::Text {
        x: (W / 2) as i32,
        y: H as i32 - 30,
        text: "n/a: unsupported, failed or server unavailable (see the table)".into(),
        rgb: [120, 120, 120],
    });
    shapes
}

pub fn write_svg(report: &Report, path: &Path) -> std::io::Result<()> {
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="13">"#
    );
    out.push('\n');
    for s in layout(report) {
        match s {
            Shape::Rect { x, y, w, h, rgb } => out.push_str(&format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"rgb({},{},{})\"/>\n",
                rgb[0], rgb[1], rgb[2]
            )),
            Shape::Text { x, y, text, rgb } => out.push_str(&format!(
                "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"rgb({},{},{})\">{}</text>\n",
                y + 12,
                rgb[0],
                rgb[1],
                rgb[2],
                text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
            )),
        }
    }
    out.push_str("</svg>\n");
    std::fs::write(path, out)
}

pub fn write_png(report: &Report, path: &Path) -> std::io::Result<()> {
    let mut px = vec![0u8; (W * H * 3) as usize];
    let mut put = |x: i32, y: i32, rgb: [u8; 3]| {
        if x >= 0 && y >= 0 && (x as u32) < W && (y as u32) < H {
            let i = ((y as u32 * W + x as u32) * 3) as usize;
            px[i..i + 3].copy_from_slice(&rgb);
        }
    };
    // Text is drawn at twice the font's pixel size: 10×14 per glyph.
    const SCALE: i32 = 2;
    for s in layout(report) {
        match s {
            Shape::Rect { x, y, w, h, rgb } => {
                for yy in y..y + h as i32 {
                    for xx in x..x + w as i32 {
                        put(xx, yy, rgb);
                    }
                }
            }
            Shape::Text { x, y, text, rgb } => {
                let advance = (crate::font::WIDTH as i32 + 1) * SCALE;
                let width = text.chars().count() as i32 * advance;
                let mut cx = x - width / 2;
                for c in text.chars() {
                    let g = crate::font::glyph(c);
                    for (row, bits) in g.iter().enumerate() {
                        for col in 0..crate::font::WIDTH as i32 {
                            if bits & (1 << (crate::font::WIDTH as i32 - 1 - col)) != 0 {
                                for dy in 0..SCALE {
                                    for dx in 0..SCALE {
                                        put(
                                            cx + col * SCALE + dx,
                                            y + row as i32 * SCALE + dy,
                                            rgb,
                                        );
                                    }
                                }
                            }
                        }
                    }
                    cx += advance;
                }
            }
        }
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut enc = png::Encoder::new(file, W, H);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(std::io::Error::other)?;
    writer
        .write_image_data(&px)
        .map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)
}
