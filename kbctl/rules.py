"""Every rule kbctl knows, in one table: stable name, stable code, command, severity, doc.

Codes are never reused. `kbctl rules` prints this table; `kbctl rules NAME` prints the doc.
"""

from __future__ import annotations

from dataclasses import dataclass

from kbctl.model import Diagnostic, Severity


@dataclass(frozen=True)
class Rule:
    name: str
    code: str
    command: str
    severity: Severity
    summary: str
    why: str

    def diag(self, path, line, message, entry=None, severity: Severity | None = None) -> Diagnostic:
        return Diagnostic(
            path=path,
            line=line,
            rule=self.name,
            severity=severity or self.severity,
            message=message,
            entry=entry,
            code=self.code,
        )


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

_TABLE = [
    Rule("encoding", "KB001", "validate", E, "The file is not valid UTF-8.",
         "kbctl and every channel read text as UTF-8; other encodings turn into garbage."),
    Rule("unreadable", "KB002", "validate", E,
         "The file cannot be read, or is a link leading outside the knowledge base.",
         "Content from outside the repository would escape review."),
    Rule("front-matter-syntax", "KB003", "validate", E,
         "Front matter is missing, unterminated, not YAML, not a mapping, or has a duplicate key.",
         "Without readable front matter the entry has no id, owner or status."),
    Rule("schema", "KB004", "validate", E,
         "A front-matter field is unknown, missing, of the wrong type, or an impossible date.",
         "A typo in a key silently drops the setting; the schema makes it loud."),
    Rule("block-syntax", "KB005", "validate", E,
         "A `:::` block has an unknown name, is nested, or is never closed.",
         "An unclosed restricted block could leak, or hide, the rest of the entry."),
    Rule("duplicate-id", "KB006", "validate", E, "Two entries share an id.",
         "Ids are the entries' addresses: links and URLs would point at either."),
    Rule("unknown-owner", "KB007", "validate", E, "The owner is not a key of `owners`.",
         "Every entry needs someone responsible for keeping it true."),
    Rule("unknown-category", "KB008", "validate", E, "The category is not a taxonomy path.",
         "The entry would be missing from the knowledge map and the voice menu."),
    Rule("unknown-channel", "KB009", "validate", E, "`channels` names a channel not configured.",
         "A misspelt channel silently withholds the entry from where it was meant to go."),
    Rule("unknown-locale", "KB010", "validate", E, "The locale is not in `locales`.",
         "No channel publishes an unconfigured locale."),
    Rule("broken-reference", "KB011", "validate", E,
         "`related` or `translation_of` names no entry (or a translation of the same locale).",
         "Readers would get a dead 'related' item or a locale switch to nowhere."),
    Rule("broken-link", "KB012", "validate", E,
         "A body link points to no entry, heading anchor or file.",
         "Dead links cost customers time and trust."),
    Rule("cross-visibility-link", "KB013", "validate", W,
         "A published entry links to one that a channel carrying the link cannot carry.",
         "The link is shown there as plain text; the reader hits a dead end."),
    Rule("raw-html", "KB014", "validate", W, "Raw HTML in the body.",
         "Raw HTML is never published (it is escaped or dropped); write Markdown instead."),
    Rule("duplicate-question", "KB015", "validate", W,
         "Two entries of one locale ask the same question.",
         "Two answers to one question drift apart; chatbots pick one at random."),
    Rule("ivr-missing-script", "KB016", "validate", E,
         "An entry an IVR channel carries has no `::: ivr` block and no summary.",
         "The voice menu would offer an option that says nothing."),
    Rule("ivr-too-long", "KB017", "validate", E,
         "The spoken script takes longer than the channel's `max_prompt_seconds`.",
         "Callers hang up on long prompts."),
    Rule("ivr-unspeakable", "KB018", "validate", E,
         "The spoken script holds a URL, link, image, table, code or raw HTML.",
         "A speech engine reads these out character by character."),
    Rule("ivr-menu", "KB019", "validate", E,
         "IVR keys clash among siblings, or a voice menu has more than 9 options.",
         "A phone keypad has keys 1 to 9 for options; 0 and * are reserved."),
    Rule("unsafe-file", "KB020", "validate", E,
         "A body link points to a file kbctl never publishes: a type that can run in a browser "
         "(HTML, script, SVG with script), a hidden file, a symbolic link, or one outside "
         "knowledge/ and the `assets` folders.",
         "A linked file is served from the site's own origin, where active content runs as the site."),
    Rule("cache-ignored", "KB021", "validate", I,
         "Git tracks files in the cache folder `.kbctl/`, so kbctl read no cache (and wrote none).",
         "A cache is never trusted content: one that arrives in a commit could run code or change "
         "the output; the run is a cold one (`git rm -r --cached .kbctl` stops tracking it)."),
    Rule("unknown-fact", "KB022", "validate", E,
         "`{{ name }}` names no fact in kbctl.yaml, or the fact has no value for the entry's locale.",
         "Readers would see the placeholder itself where the number or fee belongs."),
    Rule("theme-contrast", "KB023", "validate", W,
         "A site theme's primary_color fails WCAG AA contrast (4.5:1) against the text drawn on it.",
         "Header, links and buttons in the brand colour must stay readable for every reader."),
    Rule("stale", "KB101", "health", W, "The review due date has passed.",
         "Unverified knowledge is how wrong answers reach customers."),
    Rule("expiring", "KB102", "health", I, "The review falls due within `warn_within`.",
         "Owners can plan the review before it is overdue."),
    Rule("expired", "KB103", "health", E, "Published, but `valid_to` has passed.",
         "An ended promotion or policy must be archived or extended."),
    Rule("orphan", "KB104", "health", W,
         "A published entry has no category and no published entry links to it.",
         "Nobody can reach it by browsing."),
    Rule("git-dates", "KB105", "health", I,
         "Git dates are not used (shallow clone, or not a git repository).",
         "Review dates then rest on `last_reviewed` alone."),
    Rule("owner-unused", "KB106", "health", I, "An owner configured in kbctl.yaml owns no entry.",
         "Stale team lists hide who really answers for the knowledge."),
    Rule("empty-category", "KB107", "health", W, "A taxonomy node has no published entry.",
         "An empty branch of the knowledge map frustrates readers."),
    Rule("translation-outdated", "KB108", "health", W,
         "The source entry changed after its translation was last verified.",
         "Customers in one language get an older answer than in the other."),
    Rule("fact-unused", "KB109", "health", I, "A fact in kbctl.yaml is used by no entry.",
         "A fact nobody uses is a number nobody checks; remove it or use it where it is stated."),
    Rule("unused", "KB110", "health", W,
         "A published entry, first committed (or valid from) before the usage window began, "
         "has no `view` or `serve` event in any channel within the window.",
         "An answer nobody reads still costs reviews; archive it, or find out why nobody reaches it."),
    Rule("unhelpful", "KB111", "health", W,
         "At least `min_votes` helpful and unhelpful votes in the usage window, and the helpful "
         "share below `helpful_below`.",
         "Readers are telling the owner the answer does not answer their question."),
    Rule("content-gap", "KB112", "health", I,
         "A search (normalized as questions are) found no result at least `gap_min` times in "
         "the usage window.",
         "Customers keep asking something the knowledge base does not answer yet."),
    Rule("usage-skipped", "KB113", "health", I,
         "Usage events for unknown entries or channels, and lines that cannot be read, were "
         "skipped (counted in one note).",
         "The usage rules rest on the events counted; many skipped ones mean a broken feed."),
]

RULES: dict[str, Rule] = {rule.name: rule for rule in _TABLE}


def rule(name: str) -> Rule:
    return RULES[name]
