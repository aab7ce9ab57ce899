//! The order people are listed in: by the name as shown, numbers inside it compared as numbers
//! ("Ada 1440" before "Ada 13920"), so a list of generated or numbered names reads the way a
//! person counts. Callers compare lower-cased text, which makes the order ignore case.

use std::cmp::Ordering;

/// Compares two texts in natural order: runs of ASCII digits compare by their value (of any
/// length, leading zeros ignored), everything else byte by byte, which for UTF-8 is code point
/// order. Texts that differ only in leading zeros ("a01", "a1") are told apart by their bytes,
/// so the order is total: `Equal` only for equal texts. Allocates nothing: the list index
/// sorts 100,000 names with it.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // The shared beginning decides nothing, except a number it ends inside: start from the
    // first digit of that number.
    let mut start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while start > 0 && a[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let (mut i, mut j) = (start, start);
    loop {
        match (a.get(i), b.get(j)) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (m, n) = (digits(&a[i..]), digits(&b[j..]));
                let (u, v) = (significant(m), significant(n));
                let by_value = u.len().cmp(&v.len()).then_with(|| u.cmp(v));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                (i, j) = (i + m.len(), j + n.len());
            }
            // A digit against anything else: digits sit between the bytes below '0' and those
            // above '9', whatever the number, so the bytes decide.
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => (i, j) = (i + 1, j + 1),
        }
    }
}

/// The run of digits `text` starts with.
fn digits(text: &[u8]) -> &[u8] {
    let len = text.iter().take_while(|b| b.is_ascii_digit()).count();
    &text[..len]
}

/// A number's digits without its leading zeros.
fn significant(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&b| b == b'0').count();
    &digits[zeros..]
}

/// The list's order of two people given as (shown name, email), both lower-cased: shown name
/// in natural order, then email (unique) in natural order.
pub fn name_order(a: (&str, &str), b: (&str, &str)) -> Ordering {
    natural_cmp(a.0, b.0).then_with(|| natural_cmp(a.1, b.1))
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;
    use std::cmp::Ordering::{Equal, Greater, Less};

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        names.sort_by(|a, b| natural_cmp(a, b));
        names
    }

    #[test]
    fn numbers_inside_names_compare_as_numbers() {
        assert_eq!(natural_cmp("ada 1440", "ada 13920"), Less);
        assert_eq!(natural_cmp("ada 13920", "ada 20000"), Less);
        assert_eq!(natural_cmp("ada 9", "ada 10"), Less);
        assert_eq!(
            sorted(&["ada 20000", "ada 13920", "ada 1440", "ada 2", "ada"]),
            ["ada", "ada 2", "ada 1440", "ada 13920", "ada 20000"]
        );
    }

    #[test]
    fn a_shared_beginning_inside_a_number_does_not_decide() {
        // "1" is shared, then "9" < "0" bytewise, but 19 < 100.
        assert_eq!(natural_cmp("x19", "x100"), Less);
        assert_eq!(natural_cmp("x100", "x19"), Greater);
        assert_eq!(natural_cmp("12", "123"), Less);
    }

    #[test]
    fn several_numbers_compare_in_turn() {
        assert_eq!(natural_cmp("v1.10.2", "v1.9.30"), Greater);
        assert_eq!(natural_cmp("v1.10.2", "v1.10.10"), Less);
        assert_eq!(sorted(&["a2b10", "a2b9", "a10b1"]), ["a2b9", "a2b10", "a10b1"]);
    }

    #[test]
    fn leading_zeros_count_for_nothing_until_all_else_is_equal() {
        assert_eq!(natural_cmp("a007", "a7"), Less, "equal numbers: the bytes decide");
        assert_eq!(natural_cmp("a7", "a007"), Greater);
        assert_eq!(natural_cmp("a007b", "a7c"), Less, "the text after the number first");
        assert_eq!(natural_cmp("a08", "a7"), Greater);
        assert_eq!(natural_cmp("0", "00"), Less, "equal values, told apart by their bytes");
        assert_eq!(natural_cmp("a000000000000000000000001", "a2"), Less, "any length");
    }

    #[test]
    fn equal_texts_and_texts_without_numbers() {
        assert_eq!(natural_cmp("ada 12", "ada 12"), Equal);
        assert_eq!(natural_cmp("", ""), Equal);
        assert_eq!(natural_cmp("", "a"), Less);
        assert_eq!(natural_cmp("ben", "ada"), Greater);
        assert_eq!(natural_cmp("zoë", "zoe"), Greater, "code point order past ASCII");
    }

    #[test]
    fn numbers_against_letters_and_punctuation() {
        // Digits sit between ' ' / '.' and the letters, whatever their value.
        assert_eq!(sorted(&["a b", "a9", "a10", "ab", "a.b"]), ["a b", "a.b", "a9", "a10", "ab"]);
        assert_eq!(natural_cmp("ada", "ada 1"), Less, "a name before the same name numbered");
    }

    #[test]
    fn the_order_is_total_and_transitive_over_a_mixed_set() {
        let texts = [
            "", "0", "00", "1", "01", "001", "9", "10", "a", "a0", "a00", "a1", "a01", "a1b",
            "a01b", "a1a", "a10", "a9z", "a 1", "a.1", "b", "1a", "01a", "10a", "é2", "é10",
        ];
        for x in texts {
            for y in texts {
                assert_eq!(natural_cmp(x, y), natural_cmp(y, x).reverse(), "{x:?} {y:?}");
                assert_eq!(natural_cmp(x, y) == Equal, x == y, "{x:?} {y:?}");
                for z in texts {
                    if natural_cmp(x, y) == Less && natural_cmp(y, z) == Less {
                        assert_eq!(natural_cmp(x, z), Less, "{x:?} < {y:?} < {z:?}");
                    }
                }
            }
        }
    }
}
