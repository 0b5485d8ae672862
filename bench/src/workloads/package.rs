//! Lambda deployment packages built in memory: a zip of a few small source
//! files, base64-encoded as CreateFunction's `Code.ZipFile` expects.

use std::io::{Cursor, Write};

use base64::Engine;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The base64 of a zip holding `files` (name, content), each readable by
/// everyone, as `zip -r` on a developer machine would produce.
pub fn zip_base64(files: &[(&str, &str)]) -> Result<String, String> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (name, content) in files {
        zip.start_file(*name, options)
            .map_err(|e| format!("zip {name}: {e}"))?;
        zip.write_all(content.as_bytes())
            .map_err(|e| format!("zip {name}: {e}"))?;
    }
    let bytes = zip.finish().map_err(|e| format!("zip: {e}"))?.into_inner();
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_zip_holds_the_files() {
        let b64 = zip_base64(&[("index.py", "def handler(e, c):\n    return e\n")]).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        archive
            .by_name("index.py")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "def handler(e, c):\n    return e\n");
    }
}
