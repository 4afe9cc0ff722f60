// The in-browser notebook editor (grading/templates/grading/editor.html), bundled by esbuild into
// static/js/editor.bundle.js (`make assets`). Without this script the page is a form of plain text areas,
// one per code cell, and still submits. With it each text area becomes a CodeMirror editor that shows
// the whole cell (it grows as the learner types), highlights Python, keeps an unsaved draft in
// localStorage (keyed by user and assignment) across reloads, and warns before leaving unsaved changes.
// The text areas stay in the form, hidden, and carry the code on submit.
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, drawSelection, highlightActiveLine, keymap, lineNumbers } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { HighlightStyle, bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { tags as t } from "@lezer/highlight";

// The colours of the read-only cells (static/css/code.css, GitHub dark), all at least 4.5:1 on the cell.
const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.operatorKeyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword], color: "#ff7b72" },
  { tag: [t.operator], color: "#ff7b72" },
  { tag: [t.string, t.special(t.string), t.regexp], color: "#a5d6ff" },
  { tag: [t.number, t.bool, t.null, t.atom], color: "#79c0ff" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "#8b949e", fontStyle: "italic" },
  { tag: [t.function(t.definition(t.variableName)), t.function(t.variableName)], color: "#d2a8ff" },
  { tag: [t.className, t.definition(t.className)], color: "#f0883e" },
  { tag: [t.standard(t.variableName), t.self], color: "#ffa657" },
  { tag: t.invalid, color: "#f85149" },
]);

const theme = EditorView.theme(
  {
    "&": { backgroundColor: "#0f1b29", color: "#e6edf3", borderRadius: "10px", fontSize: ".9rem" },
    "&.cm-focused": { outline: "3px solid #79c0ff", outlineOffset: "2px" },
    ".cm-scroller": { fontFamily: "ui-monospace, Menlo, Consolas, monospace", lineHeight: "1.5", borderRadius: "10px" },
    ".cm-content": { padding: ".6rem 0", caretColor: "#ffffff" },
    ".cm-line": { padding: "0 .8rem 0 .4rem" },
    ".cm-gutters": { backgroundColor: "#0b1520", color: "#8b949e", border: "none", borderRadius: "10px 0 0 10px" },
    ".cm-activeLine": { backgroundColor: "rgba(121, 192, 255, .07)" },
    ".cm-cursor, .cm-dropCursor": { borderLeftColor: "#ffffff", borderLeftWidth: "2px" },
    "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
      { backgroundColor: "#264f78" },
    "&.cm-focused .cm-matchingBracket": { backgroundColor: "#2d4a66", color: "#ffffff" },
  },
  { dark: true },
);

function draftStore(key) {
  // localStorage may be missing or full (private windows, quotas): the editor still works, without drafts.
  return {
    read() {
      try {
        const draft = JSON.parse(window.localStorage.getItem(key) || "null");
        return draft && typeof draft.cells === "object" ? draft : null;
      } catch (error) {
        return null;
      }
    },
    write(draft) {
      try {
        window.localStorage.setItem(key, JSON.stringify(draft));
      } catch (error) {
        /* no room: nothing is kept, the warning before leaving still stands */
      }
    },
    clear() {
      try {
        window.localStorage.removeItem(key);
      } catch (error) {
        /* nothing to clear */
      }
    },
  };
}

function formatWhen(ms) {
  const when = new Date(ms);
  if (Number.isNaN(when.getTime())) return "";
  return when.toLocaleString(undefined, { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

// On a phone, long lines wrap so the whole cell is on the screen; wider, they scroll inside the cell as code does.
const narrow = window.matchMedia("(max-width: 600px)");
const wrapping = () => (narrow.matches ? EditorView.lineWrapping : []);

function startEditor(form) {
  const areas = Array.from(form.querySelectorAll("textarea.code-input"));
  if (!areas.length) return;
  const store = draftStore(form.dataset.draftKey);
  const base = form.dataset.draftBase || "";
  // What the server has (the latest attempt, or the starter): the draft is what differs from it. A page
  // re-rendered after a refused submission holds code the server has not kept: all of it is unsaved.
  const saved = new Map(areas.map((area) => [area.name, area.value]));
  const unsavedFromServer = form.hasAttribute("data-unsaved");
  const views = new Map();
  const wrap = new Compartment();
  let submitting = false;
  let timer = null;

  const current = () => Object.fromEntries(areas.map((area) => [area.name, area.value]));
  const dirty = () => unsavedFromServer || areas.some((area) => area.value !== saved.get(area.name));
  const keepDraft = () => {
    window.clearTimeout(timer);
    timer = null;
    if (dirty()) store.write({ cells: current(), base, savedAt: Date.now() });
    else store.clear();
  };

  for (const area of areas) {
    const label = form.querySelector(`label[for="${area.id}"]`);
    const view = new EditorView({
      state: EditorState.create({
        doc: area.value,
        extensions: [
          lineNumbers(),
          history(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          highlightActiveLine(),
          indentUnit.of("    "),
          EditorState.tabSize.of(4),
          python(),
          syntaxHighlighting(highlight),
          theme,
          wrap.of(wrapping()),
          // Tab is left alone, so the keyboard moves on to the next cell and the submit button;
          // Ctrl-] and Ctrl-[ indent and dedent (in the default keymap).
          keymap.of([...defaultKeymap, ...historyKeymap]),
          // The page's content security policy admits <style> elements only with its nonce: CodeMirror's
          // theme carries it (without the theme, typed spaces would arrive as U+00A0).
          EditorView.cspNonce.of(form.dataset.cspNonce || ""),
          EditorView.editorAttributes.of({ class: "code-editor" }),
          EditorView.contentAttributes.of({
            "aria-labelledby": label ? label.id : "",
            "aria-describedby": "editor-keys",
            spellcheck: "false",
            autocapitalize: "off",
            autocorrect: "off",
            "data-cell": area.name,
          }),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged) return;
            area.value = update.state.doc.toString();
            window.clearTimeout(timer);
            timer = window.setTimeout(keepDraft, 250);
          }),
        ],
      }),
    });
    area.after(view.dom);
    area.hidden = true;
    if (label) label.addEventListener("click", () => view.focus());
    views.set(area.name, { area, view });
  }
  form.classList.add("is-enhanced");
  narrow.addEventListener("change", () => {
    for (const { view } of views.values()) view.dispatch({ effects: wrap.reconfigure(wrapping()) });
  });
  const keysHelp = document.getElementById("editor-keys");
  if (keysHelp) keysHelp.hidden = false;

  const setCode = (name, text) => {
    const entry = views.get(name);
    if (!entry || entry.area.value === text) return;
    entry.view.dispatch({ changes: { from: 0, to: entry.view.state.doc.length, insert: text } });
  };

  // A draft left from an earlier visit: put it back and say so, with a way to throw it away.
  const draft = store.read();
  const notice = form.querySelector("[data-draft-notice]");
  if (draft) {
    const restored = Object.entries(draft.cells).filter(
      ([name, text]) => typeof text === "string" && views.has(name) && views.get(name).area.value !== text,
    );
    if (restored.length && notice) {
      for (const [name, text] of restored) setCode(name, text);
      window.clearTimeout(timer);
      const when = formatWhen(draft.savedAt);
      const older = draft.base && draft.base !== base ? " It was started before your latest submission." : "";
      notice.querySelector("[data-draft-text]").textContent =
        `Restored your unsaved draft${when ? ` from ${when}` : ""}: it is kept in this browser until you submit.${older}`;
      notice.hidden = false;
      notice.querySelector("[data-draft-discard]").addEventListener("click", () => {
        for (const [name, text] of saved) setCode(name, text);
        window.clearTimeout(timer);
        store.clear();
        notice.querySelector("[data-draft-text]").textContent =
          "Draft discarded: the cells show your latest submitted code again.";
        notice.querySelector("[data-draft-discard]").hidden = true;
        const first = views.values().next().value;
        if (first) first.view.focus();
      });
    } else if (!restored.length && !unsavedFromServer) {
      store.clear(); // the draft says nothing the page does not
    }
  }

  // The draft is kept until the server confirms the submission (the submission page clears it).
  form.addEventListener("submit", () => {
    submitting = true;
    keepDraft();
  });
  window.addEventListener("pagehide", () => {
    if (!submitting && timer !== null) keepDraft();
  });
  window.addEventListener("beforeunload", (event) => {
    if (submitting || !dirty()) return;
    keepDraft();
    event.preventDefault();
    event.returnValue = ""; // older browsers show the prompt only when this is set
  });
}

document.querySelectorAll("form[data-notebook-editor]").forEach(startEditor);
