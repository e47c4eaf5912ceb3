/*!
 * secure-data-sanitizer
 * Copyright (c) 2023-2026 Dana Whitfield and contributors
 * MIT Licensed
 */

'use strict';

const HTML_ESCAPES = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

const ATTRIBUTE_ESCAPES = Object.assign({}, HTML_ESCAPES, {
  '=': '&#61;',
  ' ': '&#32;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
  '\f': '&#12;',
});

const HTML_UNESCAPES = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&#96;': '`',
};

const ESCAPE_RE = /[&<>"'`]/g;
const ATTRIBUTE_RE = /[&<>"'`=\s]/g;
const UNESCAPE_RE = /&(?:amp|lt|gt|quot|#39|#96);/g;

function toText(value) {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : String(value);
}

/**
 * Escape a value for use as HTML element content.
 * @param {*} value
 * @returns {string}
 */
function escapeHtml(value) {
  const text = toText(value);
  return text.replace(ESCAPE_RE, (ch) => HTML_ESCAPES[ch]);
}

/**
 * Escape a value for use inside an attribute, quoted or not.
 * @param {*} value
 * @returns {string}
 */
function escapeAttribute(value) {
  const text = toText(value);
  return text.replace(ATTRIBUTE_RE, (ch) => ATTRIBUTE_ESCAPES[ch] || `&#${ch.charCodeAt(0)};`);
}

/**
 * Undo `escapeHtml`. Other entities are left alone on purpose.
 * @param {*} value
 * @returns {string}
 */
function unescapeHtml(value) {
  const text = toText(value);
  return text.replace(UNESCAPE_RE, (entity) => HTML_UNESCAPES[entity]);
}

module.exports = { escapeHtml, escapeAttribute, unescapeHtml, toText };
