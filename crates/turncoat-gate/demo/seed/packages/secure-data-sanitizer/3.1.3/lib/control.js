/*!
 * secure-data-sanitizer
 * Copyright (c) 2023-2026 Dana Whitfield and contributors
 * MIT Licensed
 */

'use strict';

const { toText } = require('./html');

// C0 controls except tab/newline/carriage return, DEL, C1 controls.
const CONTROL_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
// The same, newlines included.
const CONTROL_ALL_RE = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/g;
// Zero-width characters, bidi embeddings/overrides/isolates and the BOM: they make
// log lines and file names render differently from what they contain.
const INVISIBLE_RE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/**
 * Remove control and invisible formatting characters.
 * @param {*} value
 * @param {{ keepNewlines?: boolean }} [options]
 * @returns {string}
 */
function stripControlChars(value, options) {
  const keepNewlines = !options || options.keepNewlines !== false;
  const text = toText(value);
  return text
    .replace(keepNewlines ? CONTROL_RE : CONTROL_ALL_RE, '')
    .replace(INVISIBLE_RE, '');
}

module.exports = { stripControlChars };
