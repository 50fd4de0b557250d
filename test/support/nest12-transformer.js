// Jest transformer for the Nest 12 run: ts-jest turns Nest 12's ESM into CommonJS like our own sources, but
// CommonJS has no `import.meta`. Nest 12 uses it only for its own location and for resolving packages
// (createRequire(import.meta.url), import.meta.dirname, import.meta.resolve), which CommonJS has as __filename,
// __dirname and require.resolve.
'use strict';
const path = require('node:path');
const tsJest = require('ts-jest').default;

const inner = tsJest.createTransformer({ tsconfig: path.resolve(__dirname, '..', '..', 'tsconfig.nest12.json') });

function rewrite(source) {
  return source
    // `const require = createRequire(import.meta.url)`: CommonJS already has a require of its own.
    .replace(/^(\s*)const require = createRequire\([^)]*\);/gm, '$1')
    .replace(/import\.meta\.resolve\(/g, 'require.resolve(')
    .replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href")
    .replace(/import\.meta\.dirname/g, '__dirname')
    .replace(/import\.meta\.filename/g, '__filename');
}

module.exports = {
  process: (source, file, options) => inner.process(rewrite(source), file, options),
  getCacheKey: (source, file, options) => inner.getCacheKey(rewrite(source), file, options),
};
