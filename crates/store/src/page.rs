//! Pages of a listing. Listings that grow without end (messages, conversations, contacts) are
//! read by keyset: the next page starts after the last row seen, so a page costs the same at
//! the 10,000th row as at the first and rows written meanwhile neither repeat nor go missing.
//! The others are short and keep numbered pages.

/// A page of a listing as asked: 1-based page number and page size (already validated), or,
/// for keyset listings, the page after a cursor (the page number is then 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        PageRequest {
            page: 1,
            limit,
            after: None,
        }
    }

    /// The page numbered `page` of `limit` items.
    pub fn numbered(page: u32, limit: u32) -> Self {
        PageRequest {
            page,
            limit,
            after: None,
        }
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.limit)
    }

    /// How many rows a keyset listing reads: one more than the page, to know whether a next
    /// page exists without counting.
    pub(crate) fn probe(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// Where a keyset page ends: the sort time and id of its last row. Written to clients as
/// `<milliseconds>.<id>`; ids are never empty and never hold a dot or a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at, self.id)
    }

    /// A cursor a client sent back, or `None` when it is not one this store wrote.
    pub fn decode(text: &str) -> Option<Cursor> {
        let (at, id) = text.split_once('.')?;
        let at = at.parse::<i64>().ok().filter(|at| *at >= 0)?;
        let id_ok = !id.is_empty()
            && id.len() <= 100
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        id_ok.then(|| Cursor {
            at,
            id: id.to_owned(),
        })
    }
}

/// A page of items with the total across all pages and, for keyset listings, where the next
/// page starts (none on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A numbered page.
    pub fn counted(items: Vec<T>, total: i64) -> Self {
        Page {
            items,
            total,
            next: None,
        }
    }

    /// A keyset page from the rows read with [`PageRequest::probe`]: a row beyond the page
    /// means there is a next page, which starts after the last row kept.
    pub(crate) fn keyset(
        mut items: Vec<T>,
        total: i64,
        page: &PageRequest,
        key: impl Fn(&T) -> Cursor,
    ) -> Self {
        let limit = page.limit as usize;
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(key)
        } else {
            None
        };
        Page { items, total, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote() {
        let cursor = Cursor {
            at: 1_700_000_000_123,
            id: "msg_01H-x".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn a_cursor_that_is_not_ours_is_refused() {
        for text in [
            "",
            ".",
            "12",
            "12.",
            ".abc",
            "-5.abc",
            "x1.abc",
            "12.a b",
            "12.a.b",
            "12.a'--",
            "99999999999999999999.a",
        ] {
            assert_eq!(Cursor::decode(text), None, "{text:?}");
        }
        assert!(Cursor::decode(&format!("1.{}", "a".repeat(101))).is_none());
    }

    #[test]
    fn a_keyset_page_knows_whether_more_follow() {
        let page = PageRequest::first(2);
        let key = |n: &i64| Cursor {
            at: *n,
            id: n.to_string(),
        };
        let full = Page::keyset(vec![5, 4, 3], 3, &page, key);
        assert_eq!(full.items, vec![5, 4]);
        assert_eq!(full.next.map(|c| c.at), Some(4));
        let last = Page::keyset(vec![2, 1], 2, &page, key);
        assert_eq!(last.items, vec![2, 1]);
        assert_eq!(last.next, None);
    }
}
