//! CSV in and out: fields written so spreadsheets open them safely, and tables read from
//! what spreadsheets save (UTF-8 with or without BOM, comma or semicolon separated).

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// The largest CSV file an import reads: 10 MB (100,000 rows of a long address, name and
/// roles take about 8 MB).
pub const MAX_BYTES: u64 = 10 * 1000 * 1000;
/// The most rows an import reads.
pub const MAX_ROWS: usize = 100_000;

fn too_large() -> Error {
    Error::InvalidFile(format!(
        "The file is larger than {} MB: split it into files of at most {} MB and import each.",
        MAX_BYTES / 1_000_000,
        MAX_BYTES / 1_000_000
    ))
}

/// Reads a CSV file for import, refusing one over [`MAX_BYTES`] without reading more than
/// that of it (a file named by mistake, or a device that never ends).
/// Errors: `invalid_file` (too large), `file_error`.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::file("read", path, &e))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(|e| Error::file("read", path, &e))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Quotes a field when needed (RFC 4180) and neutralizes cells a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) with a leading `'`.
pub fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One line of `fields`, ending in CRLF as RFC 4180 and spreadsheets expect.
pub fn line(fields: &[&str]) -> String {
    let mut out = fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

/// One-time codes as a person saves them from the screen that showed them once (an invitation's
/// result, an import's report): email, code, expiry. Cells are quoted and neutralized as
/// [`field`] does.
pub fn codes(rows: &[(&str, &str, &str)]) -> String {
    let mut out = line(&["email", "code", "expires"]);
    for (email, code, expires) in rows {
        out.push_str(&line(&[email, code, expires]));
    }
    out
}

/// A table read from CSV: lower-cased header names, then each record with its line number.
pub struct Table {
    pub header: Vec<String>,
    pub records: Vec<(u32, Vec<String>)>,
}

impl Table {
    /// The column named `name`, if the header has it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Reads CSV text: UTF-8 (a BOM is skipped), separated by commas or, when the header has
/// semicolons and no commas, by semicolons. Blank lines are skipped. Error: `invalid_file`,
/// including for text over [`MAX_BYTES`] or with more than [`MAX_ROWS`] rows.
pub fn read(bytes: &[u8]) -> Result<Table> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_large());
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::InvalidFile("The file is not UTF-8 text: save it as “CSV UTF-8”.".into())
    })?;
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.contains(';') && !first.contains(',') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| Error::InvalidFile(format!("The header row cannot be read: {e}.")))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut records = Vec::new();
    // Line ends counted so far, up to `counted`: records come in file order, so the count moves
    // forward only and a file of many short lines is read in linear time.
    let (mut counted, mut line_ends) = (0, 0);
    for record in reader.records() {
        let record =
            record.map_err(|e| Error::InvalidFile(format!("The file cannot be read: {e}.")))?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if records.len() == MAX_ROWS {
            return Err(Error::InvalidFile(format!(
                "The file has more than {MAX_ROWS} rows: split it into files of at most \
                 {MAX_ROWS} rows and import each."
            )));
        }
        // The line a person sees in an editor, counted from the record's byte offset (which
        // can point at the end of the line before: skip line ends).
        let at = record.position().map_or(0, |p| p.byte() as usize).min(text.len());
        let start = at + text[at..].len() - text[at..].trim_start_matches(['\r', '\n']).len();
        if start < counted {
            (counted, line_ends) = (0, 0);
        }
        line_ends += line_ends_in(&text.as_bytes()[counted..start]);
        counted = start;
        let line = u32::try_from(line_ends + 1).unwrap_or(u32::MAX);
        records.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(Table { header, records })
}

/// Line ends as editors count them: `\r\n`, `\n`, or a `\r` alone (old Mac files, which the CSV
/// reader splits records at too).
fn line_ends_in(bytes: &[u8]) -> usize {
    let lone_cr = |i: usize| bytes.get(i + 1) != Some(&b'\n');
    bytes.iter().enumerate().filter(|&(i, b)| *b == b'\n' || (*b == b'\r' && lone_cr(i))).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_one_line_each_under_a_header() {
        let csv = codes(&[
            ("ana@example.com", "ABCD-EFGH-JKLM", "2026-12-13T09:00:00Z"),
            ("=cmd@example.com", "WXYZ-2345-6789", "2026-12-13T09:00:00Z"),
        ]);
        assert_eq!(
            csv,
            "email,code,expires\r\nana@example.com,ABCD-EFGH-JKLM,2026-12-13T09:00:00Z\r\n\
             '=cmd@example.com,WXYZ-2345-6789,2026-12-13T09:00:00Z\r\n"
        );
        let table = read(csv.as_bytes()).expect("read back");
        assert_eq!(table.header, ["email", "code", "expires"]);
        assert_eq!(table.records[0].1[1], "ABCD-EFGH-JKLM");
    }

    #[test]
    fn fields_are_quoted_and_formulas_neutralized() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, \"b\""), "\"a, \"\"b\"\"\"");
        assert_eq!(field("=1+2"), "'=1+2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("+x;y"), "\"'+x;y\"");
    }

    #[test]
    fn reads_bom_semicolons_quotes_and_line_numbers() {
        let table = read(b"\xEF\xBB\xBFEmail;Name;Roles\r\na@x.com;\"Lee; Ann\";admin\r\n\r\nb@x.com;;reporting;admin\r\n").unwrap();
        assert_eq!(table.header, ["email", "name", "roles"]);
        assert_eq!(table.records.len(), 2);
        assert_eq!(
            table.records[0],
            (2, vec!["a@x.com".into(), "Lee; Ann".into(), "admin".into()])
        );
        assert_eq!(table.records[1].0, 4, "the blank line is skipped but counted");
        assert!(read(b"\xFF\xFEe\x00").is_err(), "UTF-16 is refused with a sentence");
    }

    #[test]
    fn lines_ending_in_a_carriage_return_alone_are_counted_in_linear_time() {
        let table = read(b"email\ra@x.com\r\rb@x.com\r\nc@x.com\n").unwrap();
        let lines: Vec<u32> = table.records.iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 4, 5]);
        // 90,000 lines: counting from the start for each record took minutes.
        let text = format!("email\r{}", "a@x.com\r".repeat(90_000));
        let table = read(text.as_bytes()).unwrap();
        assert_eq!(table.records.last().map(|r| r.0), Some(90_001));
    }

    #[test]
    fn a_file_over_the_row_limit_is_refused_naming_the_limit() {
        let mut text = String::from("email,name,roles\n");
        for i in 0..MAX_ROWS {
            text.push_str(&format!("u{i}@x.com,U,reporting\n"));
        }
        assert_eq!(read(text.as_bytes()).unwrap().records.len(), MAX_ROWS, "the limit itself");
        text.push_str("one@more.com,U,reporting\n");
        let err = read(text.as_bytes()).err().unwrap();
        assert_eq!(err.code(), crate::ErrorCode::InvalidFile);
        assert!(err.to_string().contains("more than 100000 rows"), "{err}");
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_without_reading_it_all() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("big.csv");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_BYTES * 3).unwrap(); // sparse: 30 MB that cost nothing to write
        let err = read_file(&path).err().unwrap();
        assert_eq!(err.code(), crate::ErrorCode::InvalidFile);
        assert!(err.to_string().contains("larger than 10 MB"), "{err}");
        std::fs::write(&path, b"email\na@x.com\n").unwrap();
        assert_eq!(read(&read_file(&path).unwrap()).unwrap().records.len(), 1);
        assert_eq!(
            read(&vec![b' '; MAX_BYTES as usize + 1]).err().unwrap().code(),
            crate::ErrorCode::InvalidFile
        );
    }
}
