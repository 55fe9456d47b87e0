//! Request URLs built from path segments, for both API clients. Each segment is percent-encoded
//! whole, so an id from outside can never leave its segment: no `/`, `\`, `..`, `?` or `#` in it
//! reaches another segment or the query. (Ids are also refused at the door: `ids.rs`.)

use reqwest::Url;

/// `base` (a folder URL, e.g. `https://host/attask/api/v21.0/`) with `segments` appended.
pub fn under(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.path_segments_mut()
        .expect("an http(s) base URL has path segments")
        .pop_if_empty()
        .extend(segments);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_segment_stays_one_segment() {
        let base = Url::parse("https://acme.my.workfront.com/attask/api/v21.0/").unwrap();
        let url = under(&base, &["proj", "..\\..\\../zz?apiKey=x#y"]);
        assert_eq!(url.host_str(), Some("acme.my.workfront.com"));
        assert_eq!(url.query(), None);
        assert_eq!(url.fragment(), None);
        let segments: Vec<&str> = url.path_segments().unwrap().collect();
        assert_eq!(segments.len(), 5, "{url}");
        assert_eq!(&segments[..4], ["attask", "api", "v21.0", "proj"]);
        assert!(!segments[4].contains('/') && !segments[4].contains('?'), "{url}");
        assert_eq!(
            under(&base, &["proj", "search"]).path(),
            "/attask/api/v21.0/proj/search"
        );
    }
}
