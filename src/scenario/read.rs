//! Reading a scenario file: bounded in size before anything is read, UTF-8 checked with the
//! place of the first bad byte.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{ScenarioError, jsonscan, locate};

/// Largest scenario file accepted by default: 16 MiB. A scenario takes several times its size
/// in memory while parsed; the shipped ones are below 10 KiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 << 20;

fn unplaced(file: &str, message: String) -> ScenarioError {
    ScenarioError {
        file: file.into(),
        path: String::new(),
        line: 0,
        column: 0,
        message,
    }
}

pub(super) fn too_large(file: &str, size: u64, max: u64) -> ScenarioError {
    unplaced(
        file,
        format!(
            "the scenario file is {size} bytes, above the limit of {max} bytes; raise it with --max-scenario-bytes"
        ),
    )
}

/// The path that stands for standard input (`simulate -`).
pub const STDIN: &str = "-";

/// The file's text (standard input for [`STDIN`]), refused unread if its size is above `max`; at most `max + 1` bytes are
/// ever read (a file that grows, or reports no size, cannot get past).
pub(super) fn scenario_text(path: &Path, file: &str, max: u64) -> Result<String, ScenarioError> {
    let cannot = |e: std::io::Error| unplaced(file, format!("cannot read scenario file: {e}"));
    let mut bytes = Vec::new();
    if path == Path::new(STDIN) {
        std::io::stdin()
            .lock()
            .take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    } else {
        let f = File::open(path).map_err(cannot)?;
        let meta = f.metadata().map_err(cannot)?;
        if meta.is_file() && meta.len() > max {
            return Err(too_large(file, meta.len(), max));
        }
        bytes.reserve(meta.len().min(max) as usize);
        f.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    }
    if bytes.len() as u64 > max {
        return Err(unplaced(
            file,
            format!(
                "the scenario file is more than {max} bytes, above the limit; raise it with --max-scenario-bytes"
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let off = e.utf8_error().valid_up_to();
        let b = e.as_bytes();
        let (line, column) = locate::line_col_bytes(b, off);
        ScenarioError {
            file: file.into(),
            path: locate::render(&jsonscan::path_at(b, off)),
            line,
            column,
            message: format!(
                "invalid UTF-8 at byte offset {off} (byte 0x{:02x}): a scenario file must be UTF-8 text",
                b[off]
            ),
        }
    })
}
