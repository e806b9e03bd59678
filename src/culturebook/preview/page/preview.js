// The preview's page: hears each new state from /events (server-sent events) and redraws what
// changed. Page images are named by their PDF's hash, so an unchanged page keeps its <img> (no
// reload, no flicker, the scroll position kept) and a changed one gets a new address. It tells the
// preview which document is in view (/view), so that a change makes that one first.
"use strict";

const RETRY_MS = 1000;
let shown = -1;
let viewed = "";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function status(state) {
  const line = document.getElementById("status");
  const build = state.build;
  if (state.building) {
    line.className = "building";
    line.textContent = "building…";
  } else if (!build) {
    line.className = "";
    line.textContent = "waiting for the first build";
  } else if (build.ok) {
    line.className = "ok";
    line.textContent = `up to date: built at ${build.finished} in ${build.seconds} s`;
  } else {
    line.className = "failed";
    line.textContent = `the build at ${build.finished} failed (${build.summary || "see the problems"}); ` +
      "the pages are from the last good build";
  }
}

function problems(state) {
  const list = document.getElementById("problem-list");
  const items = state.problems.map((p) => {
    // The line opens the file at its line and column in the editor (preview --editor), if any.
    const line = el("code", {}, p.text);
    const item = el("li", { class: p.warning ? "warning" : "error" },
      p.editor ? el("a", { href: p.editor, title: "open in the editor" }, line) : line);
    if (p.hint) item.append(el("div", { class: "hint" }, `hint: ${p.hint}`));
    return item;
  });
  if (!items.length) items.push(el("li", { class: "none" }, state.build ? "No problems." : "…"));
  list.replaceChildren(...items);
}

// Pages are drawn at the size they are shown: the height the stylesheet gives them, in device
// pixels, rounded up to 10 so that a zoom of a few percent reuses the images drawn.
function shownHeight(doc) {
  const name = doc.kind === "poster" ? "--poster-height" : "--page-height";
  const px = parseFloat(getComputedStyle(document.documentElement).getPropertyValue(name)) || 340;
  return Math.ceil((px * (window.devicePixelRatio || 1)) / 10) * 10;
}

function image(page, kept, doc) {
  const img = kept.get(page.src) ||
    el("img", { src: `${page.src}?h=${shownHeight(doc)}`, width: page.width, height: page.height });
  img.dataset.src = page.src;
  img.alt = page.alt;
  img.dataset.doc = doc.path;
  return img;
}

function spreads(doc, kept) {
  // A booklet opens on its cover, alone on the right; then pairs of pages; the back cover alone.
  const pages = doc.pages;
  const groups = [[pages[0]]];
  for (let i = 1; i < pages.length; i += 2) groups.push(pages.slice(i, i + 2));
  const box = el("div", { class: "spreads" });
  groups.forEach((group, n) => {
    const spread = el("div", { class: "spread" }, ...group.map((p) => image(p, kept, doc)));
    if (n === 0 && pages.length > 1) {
      spread.classList.add("alone-right");
      const px = parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--page-height"));
      spread.style.setProperty("--spacer", `${(px * group[0].width) / group[0].height}px`);
    }
    box.append(spread);
  });
  return box;
}

function edition(ed, kept) {
  const section = el("section", { class: "edition", id: `edition-${ed.lang}`, lang: ed.lang });
  section.append(el("h2", {}, `${ed.title} `, el("span", { lang: "en" }, `(${ed.lang})`)));
  const downloads = el("ul", { class: "downloads", lang: "en" });
  for (const doc of ed.documents) {
    const size = `${Math.max(1, Math.round(doc.bytes / 1024))} KB`;
    downloads.append(el("li", {}, el("a", { href: doc.download, download: doc.path.replaceAll("/", "-") },
      doc.name), ` ${size}`));
  }
  section.append(downloads);
  const booklet = ed.documents.find((d) => d.kind === "booklet");
  if (booklet && booklet.pages.length) section.append(spreads(booklet, kept));
  const posters = el("div", { class: "posters" });
  for (const doc of ed.documents.filter((d) => d.kind === "poster")) {
    posters.append(el("figure", {}, image(doc.pages[0], kept, doc), el("figcaption", { lang: "en" }, doc.name)));
  }
  if (posters.childElementCount) section.append(posters);
  return section;
}

function draw(state) {
  document.getElementById("project").textContent = state.project;
  status(state);
  problems(state);
  const main = document.getElementById("editions");
  const kept = new Map([...main.querySelectorAll("img")].map((img) => [img.dataset.src, img]));
  const sections = state.editions.map((ed) => edition(ed, kept));
  if (!sections.length) sections.push(el("p", { class: "empty" }, "No pages yet: nothing has been built."));
  main.replaceChildren(...sections);
}

function offline() {
  const line = document.getElementById("status");
  line.className = "offline";
  line.textContent = "the preview is not running (start it again with culturebook preview)";
  shown = -1;
}

function take(state) {
  if (state.version !== shown) {
    shown = state.version;
    draw(state);
    watchView();
  }
}

// The document in view (the most of its pages' area on screen after a scroll), or the one the
// pointer is on: the next build makes it first.
function setView(path) {
  if (path && path !== viewed) {
    viewed = path;
    fetch(`/view?path=${encodeURIComponent(path)}`, { cache: "no-store" }).catch(() => {});
  }
}

const inView = new Map();  // img -> its area on screen
const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) inView.set(entry.target, entry.intersectionRect.width * entry.intersectionRect.height);
  if (!viewed) setView(mostInView());
}, { threshold: [0, 0.25, 0.5, 0.75, 1] });

function mostInView() {
  const areas = new Map();
  for (const [img, area] of inView) {
    if (!img.isConnected) inView.delete(img);
    else areas.set(img.dataset.doc, (areas.get(img.dataset.doc) || 0) + area);
  }
  let best = "", most = 0;
  for (const [doc, area] of areas) if (area > most) [best, most] = [doc, area];
  return best;
}

let scrolled = 0;
window.addEventListener("scroll", () => {
  clearTimeout(scrolled);
  scrolled = setTimeout(() => setView(mostInView()), 150);
}, { passive: true });

function watchView() {
  for (const img of document.querySelectorAll("#editions img")) observer.observe(img);
}

document.addEventListener("mouseover", (event) => {
  if (event.target instanceof HTMLImageElement && event.target.dataset.doc) setView(event.target.dataset.doc);
});

function listen() {
  const events = new EventSource("/events");
  events.addEventListener("state", (message) => take(JSON.parse(message.data)));
  events.onerror = () => {
    // The preview stopped (or restarted): say so, and try again until it answers.
    events.close();
    offline();
    setTimeout(listen, RETRY_MS);
  };
}

listen();
