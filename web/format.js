// format.js -- formatted messages: markdown out, sanitized HTML in.
//
// Both directions use well-kept libraries (marked, DOMPurify), bundled from
// npm at build time into /vendor/format.js. Whatever another client sends as
// formatted_body is untrusted HTML: it is reduced to the tags and attributes
// the Matrix spec suggests for org.matrix.custom.html, links open in a new
// tab without an opener, and anything else (scripts, styles, event handlers,
// images pointing at arbitrary URLs) is dropped. Plain bodies get their URLs
// turned into links by building DOM nodes, never by writing HTML.

import { DOMPurify, marked } from './vendor/format.js';

// The spec's list (client-server API, "m.room.message msgtypes": HTML), less
// img (an <img> there names an mxc:// URI this page cannot fetch without the
// access token) and font/colour attributes.
const ALLOWED_TAGS = ['del', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'p', 'a', 'ul', 'ol',
  'sup', 'sub', 'li', 'b', 'i', 'u', 'strong', 'em', 's', 'code', 'hr', 'br', 'div', 'table', 'thead',
  'tbody', 'tr', 'th', 'td', 'caption', 'pre', 'span', 'details', 'summary'];
const ALLOWED_ATTR = ['href', 'start', 'class'];
const SAFE_LINK = /^(https?|mailto|matrix):/i;

const purify = DOMPurify(window);
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href') ?? '';
    if (!SAFE_LINK.test(href)) node.removeAttribute('href');
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  // Only code-highlighting classes survive (language-*).
  const cls = node.getAttribute?.('class');
  if (cls && !/^language-[\w-]+$/.test(cls)) node.removeAttribute('class');
});

marked.setOptions({ gfm: true, breaks: true });

// As marked escapes plain text, so that unformatted text compares equal.
const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

// A message's content from what the user typed: formatted_body only when
// the markdown says more than the plain text does.
export function messageContent(text) {
  const content = { msgtype: 'm.text', body: text };
  const html = marked.parseInline(text).trim();
  const plain = escapeHtml(text).replace(/\n/g, '<br>');
  const block = /^(#{1,6} |[-*+] |\d+\. |> |```)/m.test(text);
  const formatted = block ? marked.parse(text).trim() : html;
  if (formatted !== plain && formatted !== `<p>${plain}</p>`) {
    content.format = 'org.matrix.custom.html';
    content.formatted_body = sanitize(formatted);
  }
  return content;
}

// Untrusted HTML -> a DocumentFragment safe to insert.
export function sanitizedFragment(html) {
  // A reply's quoted fallback (<mx-reply>) is shown from the event itself.
  const cleaned = html.replace(/<mx-reply>[\s\S]*?<\/mx-reply>/gi, '');
  return purify.sanitize(cleaned, { ALLOWED_TAGS, ALLOWED_ATTR, RETURN_DOM_FRAGMENT: true });
}

export function sanitize(html) {
  return purify.sanitize(html, { ALLOWED_TAGS, ALLOWED_ATTR });
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'"]/g;

// Plain text with its URLs as links, as DOM nodes.
export function linkified(text) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const m of text.matchAll(URL_PATTERN)) {
    fragment.append(text.slice(at, m.index));
    const a = document.createElement('a');
    a.href = m[0];
    a.textContent = m[0];
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    fragment.append(a);
    at = m.index + m[0].length;
  }
  fragment.append(text.slice(at));
  return fragment;
}

// A reply's plain body starts with the quoted fallback ("> <@user> ...")
// some clients still send; drop it, the quote is drawn from the event.
export function stripReplyFallback(body) {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i].startsWith('>')) i++;
  if (i === 0) return body;
  if (lines[i] === '') i++;
  return lines.slice(i).join('\n');
}
