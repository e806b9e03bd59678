"""The content schema, defined once: the fields of each file of a project (publication.yaml, each
language's content file, and the share settings), with the kinds of field in
culturebook.project.fieldtypes.

`docs/content.md`-style references and every validation message come from these declarations, so a field
is described in exactly one place.
"""

from __future__ import annotations

from culturebook.project.fieldtypes import (
    COLUMN_TYPES,
    LANG,
    POSTER_SIZES,
    SLUG,
    Address,
    Choice,
    Date,
    Field,
    Flag,
    ListOf,
    MapOf,
    Markdown,
    Number,
    Size,
    Struct,
    Text,
)

SHARE_DOCUMENTS = ("booklet", "posters", "culture-kit")  # screen editions a message may attach
SMTP_SECURITY = ("starttls", "tls", "none")

SMTP = Struct("smtp", (
    Field("host", Text(), "The SMTP server that sends the messages (credentials come only from "
          "the environment: CULTUREBOOK_SMTP_USER and CULTUREBOOK_SMTP_PASSWORD).",
          example="smtp.example.com"),
    Field("port", Number("port", 1, 65535, whole=True), "Its port: 587 for STARTTLS, 465 for "
          "implicit TLS.", default=587, example="587"),
    Field("security", Choice(SMTP_SECURITY), "starttls (upgrade the connection), tls (implicit "
          "TLS from the start) or none (a local relay only).", default="starttls",
          example="starttls"),
))

SHARE = Struct("share", (
    Field("attach", ListOf(Choice(SHARE_DOCUMENTS)), "The screen editions each message carries: "
          "booklet, posters, culture-kit.", default=["booklet", "posters"],
          example="[booklet, posters]", shown_in="email attachments"),
    Field("budget", Size(), "The largest message a mail server takes, attachments counted as "
          "sent (base64 adds about 37 %).", default=10 * 1024**2, example="10 MB",
          shown_in="email attachments"),
    Field("split", Flag(), "When the attachments are over budget: true sends them over numbered "
          "messages; false (the default) stops with an error.", default=False, example="false"),
    Field("from", Address(), "The sender of the messages.", example='"Culture team '
          '<culture@example.com>"', shown_in="email From"),
    Field("smtp", SMTP, "The mail server culturebook share --send uses.",
          example="{host: smtp.example.com, port: 587, security: starttls}"),
    Field("rate", Number("rate", 0, 10000), "At most this many messages per minute (0: no "
          "limit), for servers that throttle.", default=0, example="30"),
))


# --- the files of a project -------------------------------------------------------------------

SETTINGS = Struct(
    "publication settings",
    (
        Field("languages", ListOf(LANG), "Editions to build, one per language; the first is the "
              "source language that other editions fall back to.", required=True,
              example="[en, zh-Hans]", shown_in="every edition"),
        Field("native_language", LANG, "The organisation's own language: the language of each "
              "value's native_name.", example="zh-Hans", shown_in="values spread, posters"),
        Field("date", Date(), "Publication date.", required=True, example="2024-03-01",
              shown_in="inside cover, PDF metadata"),
        Field("theme", SLUG, "Folder under layouts/ with the templates, stylesheet and brand.",
              default="default", example="default"),
        Field("posters", Struct("posters", (
            Field("size", Choice(POSTER_SIZES), "Poster sheet size.", default="A2",
                  example="A2", shown_in="posters"),
        )), "Poster options.", example="{size: A2}"),
        Field("recipients", MapOf(Choice(COLUMN_TYPES)), "The columns a recipients CSV may have "
              "for personalised booklets, besides name, email, slug and language: each column's "
              "name and its type (text, or date written YEAR-MONTH-DAY).",
              example="{team: text, start-date: date, manager: text, manager-note: text}",
              shown_in="welcome letter"),
        Field("share", SHARE, "How culturebook share prepares the screen editions for email "
              "and sends them.", example="{budget: 10 MB, split: false}",
              shown_in="build/<lang>/share/"),
    ),
)

VALUE = Struct("value", (
    Field("id", SLUG, "Stable name of the value; names its poster file.", required=True,
          example="integrity", translatable=False),
    Field("name", Text(), "The value's name in this edition's language.", required=True,
          example="Integrity", shown_in="values spread, posters"),
    Field("native_name", Text(), "The name in the organisation's own language "
          "(native_language), shown small beneath the name in other editions.",
          example="誠実", shown_in="values spread, posters", translatable=False),
    Field("statement", Text(), "One or two sentences saying what the value means.",
          required=True, example="Hold to our principles; put ethics first.",
          shown_in="values spread, posters"),
))

CHAPTER = Struct("chapter", (
    Field("id", SLUG, "Stable name of the chapter (used for links).", required=True,
          example="how-we-work", translatable=False),
    Field("title", Text(), "Chapter title.", required=True, example="How we work together",
          shown_in="chapter opener, contents, running head, bookmarks"),
    Field("short_title", Text(), "A shorter title for the running head, when the title is long.",
          example="How we work", shown_in="running head"),
    Field("pull_quote", Text(), "A line from the chapter set large beside its text.",
          example="We decide with the people who do the work.", shown_in="chapter"),
    Field("body", Markdown(), "The chapter text.", required=True, example="|\n  Paragraph one.",
          shown_in="chapter"),
))

MILESTONE = Struct("milestone", (
    Field("year", Text(), "Year or date label, as text.", required=True, example='"2012"',
          shown_in="timeline", translatable=False),
    Field("text", Text(), "One short line.", required=True,
          example="First office opens in Lisbon", shown_in="timeline"),
))

HIGHLIGHT = Struct("highlight", (
    Field("text", Text(), "A short, strong line.", required=True,
          example="Do the right thing, then do it well.", shown_in="quote pages"),
    Field("attribution", Text(), "Who said it.", example="Ana Silva, founder", shown_in="quote pages"),
))

CLOSING = Struct("closing", (
    Field("title", Text(), "Closing page title.", example="Where we stand", shown_in="closing page"),
    Field("body", Markdown(), "Closing text.", required=True, example="|\n  Our last words.",
          shown_in="closing page"),
))

TRANSLATION = Struct("translation", (
    Field("from", LANG, "Language the translated fields were translated from.", required=True,
          example="en", translatable=False),
    Field("fields", ListOf(Text()), "Fields of this file that are translations, as paths: "
          "a top-level field (chapters) or a field of every item (values.statement).",
          required=True, example="[chapters, milestones]", translatable=False),
    Field("note", Text(), "One sentence on the translation, printed on the inside cover.",
          example="Translated from the English original.", shown_in="inside cover"),
))

WELCOME = Struct("welcome", (
    Field("cover", Text(), "The line on a personalised cover; {name} is the recipient's name.",
          required=True, example='"Prepared for {name}"', shown_in="personalised cover"),
    Field("title", Text(), "The letter's heading.", required=True, example='"Welcome, {name}"',
          shown_in="welcome letter"),
    Field("body", Markdown(), "The letter. {name}, {email} and the declared recipients columns "
          "in braces are filled in per recipient; a paragraph that names a column the recipient's "
          "row leaves empty is left out.", required=True,
          example="|\n  We are glad you join {team} on {start-date}.", shown_in="welcome letter"),
    Field("details", MapOf(Text()), "Columns listed beneath the letter, each with its label; "
          "a detail the row leaves empty is left out.", example="{team: Team, start-date: Starts}",
          shown_in="welcome letter"),
    Field("note", Text(), "A line quoted at the foot of the letter, e.g. from the manager; left out "
          "when a column it names is empty.", example='"{manager-note}"', shown_in="welcome letter"),
    Field("note_by", Text(), "Who the quoted line is from.", example='"{manager}, your manager"',
          shown_in="welcome letter"),
    Field("signature", Text(), "Who signs the letter.", example="Ana Silva, CEO",
          shown_in="welcome letter"),
))

EMAIL_DOCUMENTS = Struct("documents", (
    Field("booklet", Text(), "The booklet's word in file names.", example="Booklet"),
    Field("culture-kit", Text(), "The bundle's word in file names.", example="Kit"),
    Field("poster", Text(), "A poster's words in file names; {poster} is its value's name.",
          example="Poster-{poster}"),
))

EMAIL = Struct("email", (
    Field("subject", Text(), "The message's subject; {name} is the recipient's name.",
          required=True, example='"Our culture, for {name}"', shown_in="email subject"),
    Field("body", Markdown(), "The message (Markdown). {name} and {email} are filled in per "
          "recipient; a paragraph naming them is left out of the draft, which has no recipient.",
          required=True, example="|\n  Dear {name},", shown_in="email body"),
    Field("file_name", Text(), "How attached files are named: {organisation}, {document}, "
          "{year} and {lang} are filled in; .pdf is added.",
          example='"Acme-Culture-{document}-{year}-{lang}"', shown_in="attachment names"),
    Field("documents", EMAIL_DOCUMENTS, "The word for each document in file names.",
          example="{booklet: Booklet, culture-kit: Kit, poster: Poster-{poster}}",
          shown_in="attachment names"),
))

# The words the layouts print, besides the content: (key, what it is, English, where it is shown).
# The theme gives them per language; an edition whose language it has none for (or not all of)
# prints the source language's, with a warning that lists them.
LABEL_DOCS = (
    ("contents", "Heading of the contents page.", "Contents", "contents"),
    ("mission", "Heading of the mission.", "Mission", "opener, contents, mission poster"),
    ("vision", "Heading of the vision.", "Vision", "opener, contents, mission poster"),
    ("values", "Heading of the values.", "Values", "values spread, contents"),
    ("milestones", "Heading of the milestones.", "Milestones", "timeline, contents"),
    ("notes", "Heading of a notes page.", "Notes", "notes pages"),
    ("edition", "The edition's term on the inside cover.", "Edition", "inside cover"),
    ("published", "The publication date's term.", "Published", "inside cover"),
    ("organisation", "The organisation's term.", "Organisation", "inside cover"),
    ("translation", "Heading of the translation note.", "About this edition", "inside cover"),
    ("untranslated", "The sentence naming the parts left in the source language; {parts} is "
     "their list.", '"Not yet translated, so in the original: {parts}."', "inside cover"),
    ("cover", "The cover's name in that list.", "Cover", "inside cover"),
    ("quotes", "The quotes' (highlights') name in that list.", "Quotes", "inside cover"),
    ("date_format", "How a date is written: {day}, {month}, {month_name}, {year}.",
     '"{day} {month_name} {year}"', "inside cover, back cover"),
    ("months", "The months' names, comma-separated (needed where date_format has "
     "{month_name}).", "January, February, ...", "inside cover, back cover"),
)
LABEL_KEYS = tuple(key for key, *_ in LABEL_DOCS)
LABELS = Struct("labels", tuple(
    Field(key, Text(), doc, example=example, shown_in=shown)
    for key, doc, example, shown in LABEL_DOCS
))

TEXTS = Struct(
    "content",
    (
        Field("translation", TRANSLATION, "Marks which fields of this file are translations.",
              translatable=False, inherit=False, example="{from: en, fields: [chapters]}"),
        Field("title", Text(), "Publication title.", required=True,
              example="Better Work, Together",
              shown_in="cover, title bar, PDF metadata, running head"),
        Field("subtitle", Text(), "Line beneath the title.", example="Our culture",
              shown_in="cover, inside cover"),
        Field("organisation", Text(), "Organisation name; set as the wordmark.", required=True,
              example="Acme", shown_in="cover wordmark, inside cover, posters, back cover"),
        Field("edition", Text(), "Edition or version.", example="Edition 2",
              shown_in="cover, inside cover, posters, back cover"),
        Field("author", Text(), "Author for the PDF metadata.", example="Acme",
              shown_in="PDF metadata"),
        Field("subject", Text(), "One sentence describing the publication.",
              example="Acme's mission, vision and values.", shown_in="PDF metadata"),
        Field("keywords", ListOf(Text()), "Keywords for the PDF metadata.",
              example="[culture, values]", shown_in="PDF metadata"),
        Field("labels", LABELS, "Words the layouts print, over the theme's for this language: "
              "a language the theme has none for needs them all (else the source language's "
              "are printed, and check lists them).", example="{contents: Sommaire}",
              translatable=False, inherit=False),
        Field("mission", Text(), "The mission, one line.", required=True,
              example="Value for Users", shown_in="opener, mission poster, back cover"),
        Field("vision", Text(), "The vision, one line.", example="Tech for Good",
              shown_in="opener, mission poster, back cover"),
        Field("values", ListOf(VALUE), "The values, 1 to 16 of them (the default theme sets "
              "them on a spread, or more pages, in 1-3 columns).", required=True,
              example="- id: integrity ...", shown_in="values spread, one poster each"),
        Field("chapters", ListOf(CHAPTER), "The chapters, in order: up to 12, from 20 to 3,000 "
              "words each; long ones open on a right-hand page, short ones run on.",
              example="- id: culture ...", shown_in="chapters, contents, bookmarks"),
        Field("milestones", ListOf(MILESTONE), "Dated milestones, in order: up to 40.",
              example='- year: "2007" ...', shown_in="timeline"),
        Field("highlights", ListOf(HIGHLIGHT), "Short lines for full-page quotes (up to 10): "
              "they face chapters that open on a right-hand page, then pad the booklet.",
              example="- text: ...", shown_in="quote pages"),
        Field("closing", CLOSING, "The closing page.", example="{title: ..., body: ...}",
              shown_in="closing page"),
        Field("email", EMAIL, "The message that carries the PDFs (culturebook share): "
              "subject, body and attachment names.", example="{subject: ..., body: ...}",
              shown_in="email drafts and messages"),
        Field("welcome", WELCOME, "The welcome letter of personalised booklets "
              "(culturebook build personalised).", example="{cover: ..., title: ..., body: ...}",
              shown_in="personalised booklets"),
    ),
)
