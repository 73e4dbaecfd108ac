//! Tool names as a Chat upstream sees them, and the way back.
//!
//! Chat providers know only flat function names, and some accept only `^[a-zA-Z0-9_-]{1,64}$`.
//! Namespaced tools become `<namespace>__<name>`; a name that does not fit the pattern is
//! sanitized, truncated and suffixed with a hash of the original. The mapping is a pure function
//! of (namespace, name), so tools in this request and calls replayed from history always agree.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// A JSON-arguments function; the model's call goes back as a `function_call`.
    Function,
    /// A freeform tool wrapped as a one-string-parameter function; the call goes back as a
    /// `custom_tool_call` with the raw `input`.
    Custom,
    /// The bridge's own `web_search` function: the bridge runs the search itself and shows Codex
    /// a `web_search_call` item.
    WebSearch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOrigin {
    pub kind: ToolKind,
    pub name: String,
    pub namespace: Option<String>,
}

/// Flat upstream name → the tool the client offered, and back.
#[derive(Debug, Default, Clone)]
pub struct ToolMap {
    by_flat: HashMap<String, ToolOrigin>,
    by_origin: HashMap<(Option<String>, String), String>,
}

const MAX_NAME: usize = 64;

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// FNV-1a: stable across builds and platforms (unlike `DefaultHasher`), which the name mapping needs.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The upstream name for a tool.
pub fn flat_name(namespace: Option<&str>, name: &str) -> String {
    let joined = match namespace {
        Some(ns) => format!("{ns}__{name}"),
        None => name.to_owned(),
    };
    if valid_name(&joined) {
        return joined;
    }
    let hash = fnv1a(&[namespace.unwrap_or(""), name]);
    let suffix = format!("_{:08x}", hash as u32);
    let mut clean: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    clean.truncate(MAX_NAME - suffix.len());
    clean.push_str(&suffix);
    clean
}

impl ToolMap {
    /// Registers an offered tool and returns its upstream name.
    pub fn insert(&mut self, kind: ToolKind, namespace: Option<&str>, name: &str) -> String {
        let origin = ToolOrigin {
            kind,
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
        };
        let mut flat = flat_name(namespace, name);
        if self
            .by_flat
            .get(&flat)
            .is_some_and(|o| o.name != origin.name || o.namespace != origin.namespace)
        {
            // `a__b` + `c` and `a` + `b__c` join to the same name: the later one gets a hash.
            let hash = fnv1a(&[namespace.unwrap_or(""), name]);
            let suffix = format!("_{:08x}", hash as u32);
            flat.truncate(MAX_NAME - suffix.len());
            flat.push_str(&suffix);
        }
        self.by_origin.insert(
            (origin.namespace.clone(), origin.name.clone()),
            flat.clone(),
        );
        self.by_flat.insert(flat.clone(), origin);
        flat
    }

    /// The upstream name for a tool, offered or not (calls replayed from history).
    pub fn flat_for(&self, namespace: Option<&str>, name: &str) -> String {
        self.by_origin
            .get(&(namespace.map(str::to_owned), name.to_owned()))
            .cloned()
            .unwrap_or_else(|| flat_name(namespace, name))
    }

    /// The offered tool behind an upstream name.
    pub fn resolve(&self, flat: &str) -> Option<&ToolOrigin> {
        self.by_flat.get(flat)
    }

    pub fn is_empty(&self) -> bool {
        self.by_flat.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_names() {
        let cases: &[(Option<&str>, &str, &str)] = &[
            (None, "exec_command", "exec_command"),
            (
                Some("multi_agent_v1"),
                "spawn_agent",
                "multi_agent_v1__spawn_agent",
            ),
            (None, "my-tool", "my-tool"),
        ];
        for (ns, name, want) in cases {
            assert_eq!(flat_name(*ns, name), *want);
        }
    }

    #[test]
    fn invalid_names_are_sanitized_stably_and_fit() {
        let a = flat_name(Some("mcp.server"), "read file");
        assert!(valid_name(&a), "{a}");
        assert!(a.starts_with("mcp_server__read_file_"), "{a}");
        assert_eq!(a, flat_name(Some("mcp.server"), "read file"));
        let long = "x".repeat(100);
        let b = flat_name(Some("ns"), &long);
        assert_eq!(b.len(), 64);
        assert!(valid_name(&b));
        assert_ne!(
            flat_name(Some("ns"), &long),
            flat_name(Some("ns"), &"x".repeat(101))
        );
    }

    #[test]
    fn colliding_joins_get_distinct_names() {
        let mut map = ToolMap::default();
        let a = map.insert(ToolKind::Function, Some("a__b"), "c");
        let b = map.insert(ToolKind::Function, Some("a"), "b__c");
        assert_eq!(a, "a__b__c");
        assert_ne!(a, b);
        assert_eq!(map.resolve(&b).map(|o| o.name.as_str()), Some("b__c"));
        assert_eq!(map.flat_for(Some("a"), "b__c"), b);
    }

    #[test]
    fn resolve_round_trip() {
        let mut map = ToolMap::default();
        let flat = map.insert(ToolKind::Function, Some("multi_agent_v1"), "close_agent");
        let origin = map.resolve(&flat).cloned();
        assert_eq!(
            origin,
            Some(ToolOrigin {
                kind: ToolKind::Function,
                name: "close_agent".into(),
                namespace: Some("multi_agent_v1".into())
            })
        );
        assert_eq!(map.resolve("nope"), None);
    }
}
