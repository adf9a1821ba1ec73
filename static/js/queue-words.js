// The words for what waits on the phone, in the page's language: "1 audit and 1 photo to
// send", "2 auditorías por enviar". The server translates each form (base.html's
// #queue-status, data-audits-one, data-audits-other, ...: ngettext has no place in the
// browser), and the language's plural rules (Intl.PluralRules) pick the form for a count.
const texts = document.getElementById("queue-status")?.dataset ?? {};
const rules = new Intl.PluralRules(document.documentElement.lang || "en");

/** `key`'s form for `n` (data-<key>-one or data-<key>-other), with the number in it. */
export function counted(key, n) {
  const form = rules.select(n) === "one" ? "One" : "Other";
  return (texts[`${key}${form}`] ?? texts[`${key}Other`] ?? "").replace("%d", n);
}

/** "1 audit and 2 photos to send", "3 photos to send", or "" when nothing waits. */
export function waitingWords({ audits, photos }) {
  if (audits && photos) {
    return (texts.bothToSend ?? "").replace("{audits}", counted("audits", audits)).replace("{photos}", counted("photos", photos));
  }
  if (!audits && !photos) return "";
  return (texts.toSend ?? "").replace("{what}", audits ? counted("audits", audits) : counted("photos", photos));
}

/** A checklist text ({"es": ..., "en": ...}, or one string) in the page's language. */
export function inPageLanguage(text) {
  if (!text || typeof text === "string") return text;
  return text[document.documentElement.lang] ?? text.en ?? Object.values(text)[0];
}
