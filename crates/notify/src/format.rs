//! Rendering a notification for each service: escaping its markup and keeping to its length
//! limit. The title is shown in bold, the body as plain text below it.
//!
//! Service facts this depends on:
//! - Telegram `parse_mode: MarkdownV2` (<https://core.telegram.org/bots/api#markdownv2-style>):
//!   outside entities, `_ * [ ] ( ) ~ ` > # + - = | { } . !` must be escaped with `\`, and `\`
//!   itself as `\\`; `*bold*`. A message is 1 to 4096 characters after entity parsing.
//! - Discord message content (<https://discord.com/developers/docs/resources/message>): up to
//!   2000 characters; markdown `\ * _ ~ ` | >` escaped with `\`; `**bold**`. `@everyone` and
//!   `@here` are neutralized with a zero-width space after the `@` (the transport also sends
//!   `allowed_mentions: {"parse": []}`).
//!
//! Lengths are counted in UTF-16 code units, which is never less than the character count, so a
//! text within the limit in units is within it however the service counts. A text over the limit
//! is cut between escaped characters (never between a `\` and what it escapes), preferably at a
//! line break, and marked [`TRUNCATED`]. Discord gets up to [`DISCORD_MAX_PARTS`] messages.

/// Telegram's limit on a message's text.
pub const TELEGRAM_MAX_LEN: usize = 4096;
/// Discord's limit on a message's content.
pub const DISCORD_MAX_LEN: usize = 2000;
/// How many Discord messages one notification may become before it is truncated.
pub const DISCORD_MAX_PARTS: usize = 4;
/// Titles longer than this many characters are cut (and end in `…`), so the bold markup around
/// them is always closed.
pub const MAX_TITLE_CHARS: usize = 200;
/// Appended (escaped) where a text was cut.
pub const TRUNCATED: &str = "\n… (truncated)";

const ZERO_WIDTH_SPACE: char = '\u{200B}';

/// Escapes `text` for Telegram MarkdownV2 outside entities.
pub fn escape_telegram(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for (i, c) in text.char_indices() {
        telegram_unit(text, i, c, &mut out);
    }
    out
}

/// Escapes `text` for Discord markdown and neutralizes `@everyone` and `@here`.
pub fn escape_discord(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for (i, c) in text.char_indices() {
        discord_unit(text, i, c, &mut out);
    }
    out
}

/// The Telegram text of a notification: `*title*` and the body on the following lines, escaped,
/// at most [`TELEGRAM_MAX_LEN`] long.
pub fn telegram_text(title: &str, body: &str) -> String {
    let mut parts = render(title, body, "*", telegram_unit, TELEGRAM_MAX_LEN, 1);
    parts.pop().unwrap_or_default()
}

/// The Discord messages of a notification, in order: `**title**` and the body, escaped, split at
/// line breaks into messages of at most [`DISCORD_MAX_LEN`], at most [`DISCORD_MAX_PARTS`] of them.
pub fn discord_parts(title: &str, body: &str) -> Vec<String> {
    render(title, body, "**", discord_unit, DISCORD_MAX_LEN, DISCORD_MAX_PARTS)
}

/// Escapes one character of `text` (at byte `i`) for Telegram into `out`.
fn telegram_unit(_text: &str, _i: usize, c: char, out: &mut String) {
    if matches!(
        c,
        '_' | '*'
            | '['
            | ']'
            | '('
            | ')'
            | '~'
            | '`'
            | '>'
            | '#'
            | '+'
            | '-'
            | '='
            | '|'
            | '{'
            | '}'
            | '.'
            | '!'
            | '\\'
    ) {
        out.push('\\');
    }
    out.push(c);
}

/// Escapes one character of `text` (at byte `i`) for Discord into `out`.
fn discord_unit(text: &str, i: usize, c: char, out: &mut String) {
    match c {
        '\\' | '*' | '_' | '~' | '`' | '|' | '>' => {
            out.push('\\');
            out.push(c);
        }
        '@' => {
            out.push('@');
            let rest = &text[i + c.len_utf8()..];
            if rest.starts_with("everyone") || rest.starts_with("here") {
                out.push(ZERO_WIDTH_SPACE);
            }
        }
        _ => out.push(c),
    }
}

type Escape = fn(&str, usize, char, &mut String);

/// Bold title, then the body, escaped unit by unit into at most `max_parts` texts of at most
/// `limit` UTF-16 units each.
fn render(
    title: &str,
    body: &str,
    bold: &str,
    escape: Escape,
    limit: usize,
    max_parts: usize,
) -> Vec<String> {
    let title = short_title(title);
    let mut packer = Packer::new(limit, max_parts, escaped(TRUNCATED, escape));
    if !title.is_empty() {
        packer.push(bold);
        push_escaped(&mut packer, &title, escape);
        packer.push(bold);
    }
    if !title.is_empty() && !body.is_empty() {
        packer.push("\n");
    }
    push_escaped(&mut packer, body, escape);
    if title.is_empty() && body.is_empty() {
        push_escaped(&mut packer, "(empty notification)", escape);
    }
    packer.finish()
}

fn short_title(title: &str) -> String {
    let line = title.lines().next().unwrap_or_default();
    if line.chars().count() <= MAX_TITLE_CHARS {
        return line.to_owned();
    }
    let mut short: String = line.chars().take(MAX_TITLE_CHARS - 1).collect();
    short.push('…');
    short
}

fn escaped(text: &str, escape: Escape) -> String {
    let mut out = String::new();
    for (i, c) in text.char_indices() {
        escape(text, i, c, &mut out);
    }
    out
}

fn push_escaped(packer: &mut Packer, text: &str, escape: Escape) {
    let mut unit = String::with_capacity(8);
    for (i, c) in text.char_indices() {
        unit.clear();
        escape(text, i, c, &mut unit);
        packer.push(&unit);
    }
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Collects atomic units into texts of at most `limit` UTF-16 units, starting a new text at the
/// last line break when one is full; the last allowed text keeps room for the marker.
struct Packer {
    limit: usize,
    max_parts: usize,
    marker: String,
    parts: Vec<String>,
    current: String,
    current_len: usize,
    /// Byte index in `current` of its last `\n` unit.
    last_newline: Option<usize>,
    truncated: bool,
}

impl Packer {
    fn new(limit: usize, max_parts: usize, marker: String) -> Self {
        let current = String::with_capacity(limit.min(4096));
        Self {
            limit,
            max_parts,
            marker,
            parts: Vec::new(),
            current,
            current_len: 0,
            last_newline: None,
            truncated: false,
        }
    }

    fn push(&mut self, unit: &str) {
        if self.truncated {
            return;
        }
        let unit_len = utf16_len(unit);
        loop {
            let on_last_part = self.parts.len() + 1 >= self.max_parts;
            let room =
                if on_last_part { self.limit.saturating_sub(utf16_len(&self.marker)) } else { self.limit };
            if self.current_len + unit_len <= room {
                break;
            }
            if on_last_part {
                self.current.push_str(&self.marker);
                self.truncated = true;
                return;
            }
            self.start_next_part();
        }
        if unit == "\n" {
            self.last_newline = Some(self.current.len());
        }
        self.current.push_str(unit);
        self.current_len += unit_len;
    }

    /// Moves the full part to `parts`, cut at its last line break (the break itself is dropped),
    /// or whole when it has none.
    fn start_next_part(&mut self) {
        let rest = match self.last_newline.take() {
            Some(at) => {
                let rest = self.current.split_off(at + 1);
                self.current.pop();
                rest
            }
            None => String::new(),
        };
        self.current_len = utf16_len(&rest);
        self.parts.push(std::mem::replace(&mut self.current, rest));
    }

    fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() || self.parts.is_empty() {
            self.parts.push(self.current);
        }
        self.parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_escapes_every_reserved_character() {
        let cases = [
            ("_*[]()~`>#+-=|{}.!\\", r"\_\*\[\]\(\)\~\`\>\#\+\-\=\|\{\}\.\!\\"),
            ("BTCUSDT -1.5% 1,234.56", r"BTCUSDT \-1\.5% 1,234\.56"),
            ("a_b (c) [d] e!", r"a\_b \(c\) \[d\] e\!"),
            ("plain text, 42: ok?", "plain text, 42: ok?"),
            ("é → ✓", "é → ✓"),
        ];
        for (raw, expected) in cases {
            assert_eq!(escape_telegram(raw), expected, "{raw}");
        }
    }

    #[test]
    fn discord_escapes_markdown_and_neutralizes_mass_mentions() {
        let cases = [
            ("\\*_~`|>", r"\\\*\_\~\`\|\>"),
            ("BTCUSDT -1.5% 1,234.56", "BTCUSDT -1.5% 1,234.56"),
            ("hi @everyone and @here", "hi @\u{200B}everyone and @\u{200B}here"),
            ("mail a@example.com @hereafter", "mail a@example.com @\u{200B}hereafter"),
            ("[x](y) #1 +-=.!", "[x](y) #1 +-=.!"),
        ];
        for (raw, expected) in cases {
            assert_eq!(escape_discord(raw), expected, "{raw}");
        }
    }

    #[test]
    fn title_is_bold_and_body_follows() {
        assert_eq!(
            telegram_text("Opened LONG BTC_USDT", "qty 0.5 @ 1,234.5"),
            "*Opened LONG BTC\\_USDT*\nqty 0\\.5 @ 1,234\\.5"
        );
        assert_eq!(discord_parts("P&L *today*", "-1.5%"), vec!["**P&L \\*today\\***\n-1.5%"]);
        assert_eq!(telegram_text("Only a title.", ""), "*Only a title\\.*");
        assert_eq!(discord_parts("", "body only"), vec!["body only"]);
        assert_eq!(telegram_text("", ""), "\\(empty notification\\)");
    }

    #[test]
    fn long_titles_are_cut_to_one_line() {
        let long = "x".repeat(500);
        let text = telegram_text(&long, "");
        assert_eq!(text, format!("*{}…*", "x".repeat(MAX_TITLE_CHARS - 1)));
        assert_eq!(discord_parts("first\nsecond", ""), vec!["**first**"]);
    }

    #[test]
    fn telegram_text_is_truncated_with_a_marker_and_no_dangling_escape() {
        let body = ".".repeat(3000);
        let text = telegram_text("T", &body);
        assert!(utf16_len(&text) <= TELEGRAM_MAX_LEN, "{}", utf16_len(&text));
        let marker = escape_telegram(TRUNCATED);
        assert!(text.ends_with(&marker), "{text}");
        let kept = text.strip_suffix(&marker).unwrap().strip_prefix("*T*\n").unwrap();
        assert!(!kept.is_empty() && kept.len().is_multiple_of(2), "cut inside an escape: {}", kept.len());
        assert!(kept.chars().collect::<Vec<_>>().chunks(2).all(|pair| pair == ['\\', '.']));
    }

    #[test]
    fn discord_splits_at_line_breaks_within_the_limit() {
        let line = "z".repeat(900);
        let body = format!("{line}\n{line}\n{line}");
        let parts = discord_parts("Summary", &body);
        assert_eq!(parts, vec![format!("**Summary**\n{line}\n{line}"), line.clone()]);
        assert!(parts.iter().all(|p| utf16_len(p) <= DISCORD_MAX_LEN));
        assert_eq!(parts.concat().matches('z').count(), 2700);
    }

    #[test]
    fn discord_without_line_breaks_splits_between_units_and_truncates_after_the_last_part() {
        let body = "_".repeat(10_000);
        let parts = discord_parts("", &body);
        assert_eq!(parts.len(), DISCORD_MAX_PARTS);
        assert!(parts.iter().all(|p| utf16_len(p) <= DISCORD_MAX_LEN));
        let marker = escape_discord(TRUNCATED);
        let last = parts.last().unwrap();
        assert!(last.ends_with(&marker));
        for part in &parts[..DISCORD_MAX_PARTS - 1] {
            assert_eq!(part, &"\\_".repeat(DISCORD_MAX_LEN / 2));
        }
        assert!(last.strip_suffix(&marker).unwrap().len().is_multiple_of(2));
    }

    #[test]
    fn lengths_count_utf16_units() {
        let body = "🚀".repeat(1500);
        let parts = discord_parts("", &body);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].chars().count(), 1000);
        assert_eq!(parts[1].chars().count(), 500);
    }
}
