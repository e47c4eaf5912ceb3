/*!
 * secure-data-sanitizer
 * Copyright (c) 2023-2026 Dana Whitfield and contributors
 * MIT Licensed
 */

'use strict';

const { escapeHtml, escapeAttribute, unescapeHtml, toText } = require('./html');
const { stripControlChars } = require('./control');
const { redactEmails, redactCardNumbers, redact } = require('./redact');

const DEFAULT_MAX_DEPTH = 8;

/**
 * Strip control characters, redact, then optionally escape for HTML.
 * @param {*} value
 * @param {{ html?: boolean, redact?: boolean, keepNewlines?: boolean, mask?: string }} [options]
 * @returns {string}
 */
function sanitize(value, options) {
  const opts = options || {};
  let text = stripControlChars(toText(value), opts);
  if (opts.redact !== false) {
    text = redact(text, opts);
  }
  return opts.html ? escapeHtml(text) : text;
}

/**
 * `sanitize` every string inside a JSON-like value. Cycles and values nested deeper than
 * `maxDepth` become the string '[truncated]'.
 * @param {*} input
 * @param {{ maxDepth?: number } & Parameters<typeof sanitize>[1]} [options]
 * @returns {*}
 */
function sanitizeObject(input, options) {
  const opts = options || {};
  const maxDepth = Number.isInteger(opts.maxDepth) ? opts.maxDepth : DEFAULT_MAX_DEPTH;
  const seen = new WeakSet();

  function walk(value, depth) {
    if (typeof value === 'string') {
      return sanitize(value, opts);
    }
    if (value === null || typeof value !== 'object') {
      return value;
    }
    if (depth >= maxDepth || seen.has(value)) {
      return '[truncated]';
    }
    seen.add(value);
    if (Array.isArray(value)) {
      return value.map((item) => walk(item, depth + 1));
    }
    const out = {};
    for (const key of Object.keys(value)) {
      out[sanitize(key, { redact: false })] = walk(value[key], depth + 1);
    }
    return out;
  }

  return walk(input, 0);
}

module.exports = {
  escapeHtml,
  escapeAttribute,
  unescapeHtml,
  stripControlChars,
  redactEmails,
  redactCardNumbers,
  redact,
  sanitize,
  sanitizeObject,
};
