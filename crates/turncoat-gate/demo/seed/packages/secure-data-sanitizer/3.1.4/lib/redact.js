/*!
 * secure-data-sanitizer
 * Copyright (c) 2023-2026 Dana Whitfield and contributors
 * MIT Licensed
 */

'use strict';

const { toText } = require('./html');

const EMAIL_RE = /([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
// 13 to 19 digits, optionally grouped by single spaces or dashes.
const CARD_RE = /\b\d(?:[ -]?\d){12,18}\b/g;

/**
 * Mask e-mail addresses, keeping the first character and the domain.
 * @param {*} value
 * @param {{ mask?: string }} [options]
 * @returns {string}
 */
function redactEmails(value, options) {
  const mask = (options && options.mask) || '***';
  return toText(value).replace(EMAIL_RE, (_, first, _rest, domain) => `${first}${mask}@${domain}`);
}

/**
 * Mask card-like numbers (Luhn-valid, 13 to 19 digits), keeping the grouping and the last
 * four digits.
 * @param {*} value
 * @param {{ mask?: string }} [options]
 * @returns {string}
 */
function redactCardNumbers(value, options) {
  const mask = ((options && options.mask) || '*').charAt(0);
  return toText(value).replace(CARD_RE, (match) => {
    const digits = match.replace(/\D/g, '');
    let seen = 0;
    let out = '';
    for (let i = match.length - 1; i >= 0; i--) {
      const ch = match[i];
      if (ch >= '0' && ch <= '9') {
        seen++;
        out = (seen <= 4 ? ch : mask) + out;
      } else {
        out = ch + out;
      }
    }
    return digits.length >= 13 && luhnValid(digits) ? out : match;
  });
}

/**
 * The Luhn checksum every payment card number satisfies; order numbers, phone numbers
 * and timestamps of the same length almost never do.
 * @param {string} digits
 * @returns {boolean}
 */
function luhnValid(digits) {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Both redactions.
 * @param {*} value
 * @param {{ mask?: string }} [options]
 * @returns {string}
 */
function redact(value, options) {
  return redactCardNumbers(redactEmails(value, options), options);
}

module.exports = { redactEmails, redactCardNumbers, redact, luhnValid };
