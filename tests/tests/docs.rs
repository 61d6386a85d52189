//! The links in Earshot's guides: every relative Markdown link or image
//! (`[text](target)`, `![alt](target)`) in `README.md` and `docs/*.md` must
//! point at a file that exists, and every `#anchor` must name a heading of
//! its target (the same file for a bare `#anchor`) by GitHub's slug.
//!
//! Links to `http:`, `https:` and `mailto:` are not followed. Fenced code
//! blocks and inline code are not prose, so what looks like a link there is
//! skipped. Only `std` is used, so the check needs nothing but the files.

use std::fs;
use std::path::{Path, PathBuf};

/// The repository root: this crate lives in `tests/`.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// `README.md` and every `docs/*.md`, sorted so failures read in a stable order.
fn guides() -> Vec<PathBuf> {
    let root = root();
    let mut files: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    files.insert(0, root.join("README.md"));
    files
}

/// One link as written: where it is, and its target.
struct Link {
    file: PathBuf,
    line: usize,
    target: String,
}

impl Link {
    /// `docs/cli.md:12: target`, relative to the repository root.
    fn place(&self) -> String {
        let root = root();
        let file = self.file.strip_prefix(&root).unwrap_or(&self.file);
        format!("{}:{}: ({})", file.display(), self.line, self.target)
    }

    /// Whether the target leaves the repository (and is not checked).
    fn is_external(&self) -> bool {
        let lower = self.target.to_ascii_lowercase();
        ["http:", "https:", "mailto:"].iter().any(|scheme| lower.starts_with(scheme))
    }

    /// The file the link points at and its anchor (empty when there is none).
    fn resolve(&self) -> (PathBuf, String) {
        let (path, anchor) = self.target.split_once('#').unwrap_or((&self.target, ""));
        let path = percent_decode(path.split('?').next().unwrap_or(""));
        let file = if path.is_empty() {
            self.file.clone()
        } else if let Some(from_root) = path.strip_prefix('/') {
            root().join(from_root)
        } else {
            self.file.parent().expect("a guide is in a folder").join(path)
        };
        (file, anchor.to_string())
    }
}

/// `%20` and friends, as GitHub decodes them in link targets.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The text with every fenced code block's lines emptied (line numbers stay).
fn without_fences(text: &str) -> Vec<&str> {
    let mut fence: Option<(char, usize)> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let run = |c: char| trimmed.chars().take_while(|&x| x == c).count();
        match fence {
            Some((c, n)) => {
                if run(c) >= n && trimmed.trim_start_matches(c).trim().is_empty() {
                    fence = None;
                }
                lines.push("");
            }
            None => {
                let opening = ['`', '~'].into_iter().map(|c| (c, run(c))).find(|&(_, n)| n >= 3);
                if opening.is_some() && line.len() - trimmed.len() <= 3 {
                    fence = opening;
                    lines.push("");
                } else {
                    lines.push(line);
                }
            }
        }
    }
    lines
}

/// A paragraph with its inline code spans blanked out; newlines are kept.
fn without_code_spans(paragraph: &[char]) -> Vec<char> {
    let mut out = paragraph.to_vec();
    let run_at = |i: usize| paragraph[i..].iter().take_while(|&&c| c == '`').count();
    let mut i = 0;
    while i < paragraph.len() {
        if paragraph[i] != '`' {
            i += 1;
            continue;
        }
        let n = run_at(i);
        // A span closes at the next run of exactly as many backticks.
        let mut j = i + n;
        let close = loop {
            if j >= paragraph.len() {
                break None;
            }
            if paragraph[j] == '`' {
                let m = run_at(j);
                if m == n {
                    break Some(j);
                }
                j += m;
            } else {
                j += 1;
            }
        };
        match close {
            Some(j) => {
                for c in &mut out[i..j + n] {
                    if *c != '\n' {
                        *c = ' ';
                    }
                }
                i = j + n;
            }
            None => i += n,
        }
    }
    out
}

/// Every `[text](target)` in one paragraph, with the line each starts on.
fn links_in(paragraph: &[char], first_line: usize) -> Vec<(usize, String)> {
    let mut links = Vec::new();
    for start in 0..paragraph.len() {
        if paragraph[start] != '[' || (start > 0 && paragraph[start - 1] == '\\') {
            continue;
        }
        let Some(close) = matching(paragraph, start, '[', ']') else { continue };
        if paragraph.get(close + 1) != Some(&'(') {
            continue;
        }
        let Some(end) = matching(paragraph, close + 1, '(', ')') else { continue };
        let inside: String = paragraph[close + 2..end].iter().collect();
        let inside = inside.trim();
        let target = match inside.strip_prefix('<') {
            Some(rest) => rest.split('>').next().unwrap_or(""),
            None => inside.split_whitespace().next().unwrap_or(""),
        };
        let line = first_line + paragraph[..start].iter().filter(|&&c| c == '\n').count();
        links.push((line, target.to_string()));
    }
    links
}

/// The index of the bracket closing the one at `open`, skipping nested pairs and escapes.
fn matching(text: &[char], open: usize, left: char, right: char) -> Option<usize> {
    let mut depth = 0;
    let mut i = open;
    while i < text.len() {
        match text[i] {
            '\\' => i += 1,
            c if c == left => depth += 1,
            c if c == right => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Every link in a Markdown text, in order, as (line, target).
fn scan(text: &str) -> Vec<(usize, String)> {
    let lines = without_fences(text);
    let mut links = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        // Links and code spans never cross a blank line, so a paragraph is the unit.
        let first = i;
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        let paragraph: Vec<char> = lines[first..i].join("\n").chars().collect();
        links.extend(links_in(&without_code_spans(&paragraph), first + 1));
    }
    links
}

/// Every link in every guide.
fn all_links() -> Vec<Link> {
    guides()
        .into_iter()
        .flat_map(|file| {
            let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            scan(&text).into_iter().map(move |(line, target)| Link { file: file.clone(), line, target })
        })
        .collect()
}

/// GitHub's anchor for a heading: lowercase, spaces to `-`, punctuation other
/// than `-` and `_` dropped. Link markup in the heading counts as its text.
fn slug(heading: &str) -> String {
    let chars: Vec<char> = heading.chars().collect();
    let mut text = String::new();
    let mut i = 0;
    while i < chars.len() {
        // `[words](target)` reads as `words`.
        let target_end =
            if chars[i] == ']' && chars.get(i + 1) == Some(&'(') { matching(&chars, i + 1, '(', ')') } else { None };
        if let Some(end) = target_end {
            i = end + 1;
            continue;
        }
        text.push(chars[i]);
        i += 1;
    }
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's ATX headings (the only kind these guides
/// use), with GitHub's `-1`, `-2` … for repeats.
fn anchors(text: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    for line in without_fences(text) {
        let trimmed = line.trim_start();
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        let rest = &trimmed[level..];
        if !(1..=6).contains(&level) || line.len() - trimmed.len() > 3 || !(rest.is_empty() || rest.starts_with(' ')) {
            continue;
        }
        let mut title = rest.trim();
        let closed = title.trim_end_matches('#');
        if closed.is_empty() || closed.ends_with(' ') {
            title = closed.trim_end();
        }
        let base = slug(title);
        let repeats = anchors.iter().filter(|a| **a == base || a.strip_prefix(&base).is_some_and(is_repeat)).count();
        anchors.push(if repeats == 0 { base } else { format!("{base}-{repeats}") });
    }
    anchors
}

/// Whether `rest` is the `-N` GitHub appends to a repeated heading's anchor.
fn is_repeat(rest: &str) -> bool {
    rest.strip_prefix('-').is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Fails listing every entry of `broken`, one per line.
fn assert_none(what: &str, broken: Vec<String>) {
    assert!(broken.is_empty(), "{} {what}:\n  {}", broken.len(), broken.join("\n  "));
}

#[test]
fn relative_links_point_at_files_that_exist() {
    let broken = all_links()
        .iter()
        .filter(|link| !link.is_external())
        .filter(|link| !link.resolve().0.exists())
        .map(|link| format!("{} — no such file", link.place()))
        .collect();
    assert_none("links to missing files", broken);
}

#[test]
fn anchors_name_a_heading_of_their_target() {
    let mut broken = Vec::new();
    for link in all_links().iter().filter(|link| !link.is_external()) {
        let (file, anchor) = link.resolve();
        if anchor.is_empty() || !file.exists() {
            // No anchor, or a missing file, which the other test reports.
            continue;
        }
        if file.extension().is_none_or(|ext| ext != "md") {
            broken.push(format!("{} — an anchor into a file that is not Markdown", link.place()));
            continue;
        }
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if !anchors(&text).contains(&percent_decode(&anchor)) {
            broken.push(format!("{} — no heading with the anchor #{anchor}", link.place()));
        }
    }
    assert_none("links to missing headings", broken);
}

#[test]
fn the_scanner_sees_the_readme_picture_and_guides() {
    // Guards the two checks above against passing because nothing was found.
    let targets: Vec<String> =
        all_links().into_iter().filter(|link| link.file.ends_with("README.md")).map(|link| link.target).collect();
    assert!(targets.iter().any(|t| t == "docs/screenshot.png"), "README links found: {targets:?}");
    assert!(targets.iter().any(|t| t.starts_with("docs/") && t.ends_with(".md")), "README links found: {targets:?}");
}

#[test]
fn links_in_code_are_skipped_and_links_across_lines_are_found() {
    let text = "See [a](a.md) and `[b](b.md)`.\n\n```\n[c](c.md)\n```\n\n~~~md\n[d](d.md)\n~~~\n\
                [The\nguide](e.md#x) ![pic](f.png \"title\") [x] (g.md) <https://h>";
    let found: Vec<String> = scan(text).into_iter().map(|(line, target)| format!("{line}:{target}")).collect();
    assert_eq!(found, ["1:a.md", "10:e.md#x", "11:f.png"]);
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug("The `earshot` command"), "the-earshot-command");
    assert_eq!(slug("A request's path"), "a-requests-path");
    assert_eq!(slug("Detail and the player"), "detail-and-the-player");
    assert_eq!(slug("snake_case and kebab-case (1.2)"), "snake_case-and-kebab-case-12");
    assert_eq!(slug("See [Tunnels](tunnels.md)"), "see-tunnels");
    assert_eq!(anchors("# Same\n## Same\n### Same ##\n```\n# not a heading\n```\n#nope"), ["same", "same-1", "same-2"]);
}
