// Why the server refused an audit or a photo for good, in the page's language. The element
// that shows a kind of refusal carries a sentence per answer (data-reason-* attributes,
// translated on the server); the server's own message is in English, so it comes, if at
// all, after the sentence.
const REASONS = { 403: "reasonForbidden", 404: "reasonNotFound", 409: "reasonTaken", 413: "reasonTooLarge",
  415: "reasonNotAnImage", 422: "reasonUnusable" };

/** The sentence of `texts` (an element's dataset) for `refusal` ({status, message, fields},
 * as outbox.js keeps it). One kept before refusals had a status holds the server's message
 * alone (a string, or {message}): that message is all there is to say. */
export function refusalSentence(refusal, texts) {
  if (typeof refusal === "string") return refusal;
  if (refusal.status === undefined) return refusal.message ?? "";
  return texts[REASONS[refusal.status]] ?? (texts.reasonOther ?? "").replace("%d", refusal.status);
}

/** Why an audit was refused: the sentence (from the waiting line's texts, on every page),
 * then what the server said, which names the answers to correct. */
export function auditRefusal(refusal) {
  const texts = document.getElementById("queue-status")?.dataset ?? {};
  const sentence = refusalSentence(refusal, texts);
  const detail = typeof refusal === "object" && refusal.status !== undefined ? refusal.message : "";
  return [sentence, detail].filter(Boolean).join(" ");
}
