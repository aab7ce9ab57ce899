//! CSV in and out: fields written so spreadsheets open them safely, and tables read from
//! what spreadsheets save (UTF-8 with or without BOM, comma or semicolon separated).

use crate::error::{Error, Result};

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
/// semicolons and no commas, by semicolons. Blank lines are skipped.
pub fn read(bytes: &[u8]) -> Result<Table> {
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
        // 200,000 lines: counting from the start for each record took minutes.
        let text = format!("email\r{}", "a@x.com\r".repeat(200_000));
        let started = std::time::Instant::now();
        let table = read(text.as_bytes()).unwrap();
        assert_eq!(table.records.last().map(|r| r.0), Some(200_001));
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }
}
