//! The HTTP `Link` header (RFC 8288) as WooCommerce and Shopify send it for pagination.

use reqwest::header::{HeaderMap, LINK};

/// The target of the link with relation `rel` (`next`, `previous`, `prev`) in all `Link`
/// headers of a response.
pub fn find(headers: &HeaderMap, rel: &str) -> Option<String> {
    headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()).find_map(|value| find_in(value, rel))
}

/// The target of the link with relation `rel` in one header value, e.g.
/// `<https://x/orders.json?page_info=abc&limit=250>; rel="next", <…>; rel="previous"`.
pub fn find_in(value: &str, rel: &str) -> Option<String> {
    let mut rest = value;
    // Each link is `<target>` followed by `;`-separated parameters up to the next `<`; a comma
    // may sit inside a target, so targets are cut by their brackets, not by commas.
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close + 1..].find('<').map(|i| close + 1 + i).unwrap_or(after.len());
        let params = &after[close + 1..params_end];
        if params.split(';').any(|p| rel_matches(p, rel)) {
            return Some(target.trim().to_string());
        }
        rest = &after[params_end..];
    }
    None
}

fn rel_matches(param: &str, rel: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else { return false };
    if !name.trim().eq_ignore_ascii_case("rel") {
        return false;
    }
    let value = value.trim().trim_end_matches(',').trim().trim_matches('"');
    // `rel` may hold several space-separated relations.
    value.split_whitespace().any(|r| r.eq_ignore_ascii_case(rel))
}

/// One query parameter of a link target (`page_info`, `page`).
pub fn query_param(target: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(target).or_else(|_| url::Url::parse("http://relative.invalid/")?.join(target)).ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOPIFY: &str = "<https://shop.myshopify.com/admin/api/2025-10/orders.json?limit=250&page_info=eyJsYXN0X2lkIjo0fQ>; rel=\"next\", <https://shop.myshopify.com/admin/api/2025-10/orders.json?limit=250&page_info=eyJkaXJlY3Rpb24iOiJwcmV2In0>; rel=\"previous\"";

    #[test]
    fn shopify_next_and_previous() {
        let next = find_in(SHOPIFY, "next").unwrap();
        assert_eq!(query_param(&next, "page_info").as_deref(), Some("eyJsYXN0X2lkIjo0fQ"));
        let prev = find_in(SHOPIFY, "previous").unwrap();
        assert_eq!(query_param(&prev, "page_info").as_deref(), Some("eyJkaXJlY3Rpb24iOiJwcmV2In0"));
    }

    #[test]
    fn woocommerce_style_and_odd_spacing() {
        let v = "<https://b.dk/wp-json/wc/v3/orders?page=1>; rel=\"prev\",<https://b.dk/wp-json/wc/v3/orders?page=3&a=1,2>;rel=next";
        let next = find_in(v, "next").unwrap();
        assert_eq!(next, "https://b.dk/wp-json/wc/v3/orders?page=3&a=1,2");
        assert_eq!(query_param(&next, "page").as_deref(), Some("3"));
        assert_eq!(find_in(v, "last"), None);
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for v in ["", "<", ">", "<x", "rel=next", "<a>; rel", "<a>; rel=\"prev next\""] {
            let _ = find_in(v, "next");
        }
        assert_eq!(find_in("<a>; rel=\"prev next\"", "next").as_deref(), Some("a"));
        assert_eq!(query_param("/orders.json?page_info=x", "page_info").as_deref(), Some("x"));
        assert_eq!(query_param("::", "page"), None);
    }

    #[test]
    fn several_headers() {
        let mut h = HeaderMap::new();
        h.append(LINK, "<https://a/x?page=1>; rel=\"prev\"".parse().unwrap());
        h.append(LINK, "<https://a/x?page=3>; rel=\"next\"".parse().unwrap());
        assert_eq!(find(&h, "next").as_deref(), Some("https://a/x?page=3"));
    }
}
