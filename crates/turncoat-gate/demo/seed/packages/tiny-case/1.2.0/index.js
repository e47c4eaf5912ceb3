// tiny-case — MIT License — Copyright (c) 2025 Ola Berg
'use strict';

// Word boundaries: separators, lower→upper ("fooBar"), acronym→word ("XMLHttp"),
// letter↔digit ("v2").
const SEPARATORS = /[\s_\-./\\]+/;

/**
 * Split a string into lower-cased words.
 * @param {string} input
 * @returns {string[]}
 */
function words(input) {
  return String(input)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
    .split(SEPARATORS)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

const upperFirst = (w) => w.charAt(0).toUpperCase() + w.slice(1);

function camelCase(input) {
  return words(input)
    .map((w, i) => (i === 0 ? w : upperFirst(w)))
    .join('');
}

function pascalCase(input) {
  return words(input).map(upperFirst).join('');
}

function snakeCase(input) {
  return words(input).join('_');
}

function kebabCase(input) {
  return words(input).join('-');
}

function constantCase(input) {
  return words(input).join('_').toUpperCase();
}

function titleCase(input) {
  return words(input).map(upperFirst).join(' ');
}

module.exports = {
  words,
  camelCase,
  pascalCase,
  snakeCase,
  kebabCase,
  constantCase,
  titleCase,
};
