// Records what the browser side computes, as golden data for tests/forms.
// form-js 1.23.0 locks @bpmn-io/feelin 6.1.0 (6.1.1 gives the same results on these cases).
// Run in a scratch folder holding this script and *_cases.json, after `npm install @bpmn-io/feelin@6.1.0`:
//   node record_golden.mjs   (then copy feelin.json and js-regexp.json back here)
import fs from 'fs';
import { evaluate, unaryTest } from '@bpmn-io/feelin';

const feelinVersion = JSON.parse(fs.readFileSync('node_modules/@bpmn-io/feelin/package.json')).version;

const feelCases = JSON.parse(fs.readFileSync('feel_cases.json'));
const feel = feelCases.map(([expression, context]) => {
  const run = (fn) => { try { return { value: fn(expression, context).value }; } catch (e) { return { error: true }; } };
  return { expression, context, evaluate: run(evaluate), unaryTest: run(unaryTest) };
});
fs.writeFileSync('feelin.json', JSON.stringify({ generator: `node ${process.version}, @bpmn-io/feelin ${feelinVersion}`, cases: feel }, null, 1) + '\n');

const { patterns, values } = JSON.parse(fs.readFileSync('regex_cases.json'));
const regex = patterns.map((pattern) => {
  let re;
  try { re = new RegExp(pattern); } catch (e) { return { pattern, valid: false }; }
  return { pattern, valid: true, matches: values.filter((v) => re.test(v)) };
});
const invalid = ['a*+', '(?P<x>a)', '(?i)a', '[a', '(?>a)', 'a**', '\\', '(a', 'a)', '+a', '(?<1a>x)'];
for (const pattern of invalid) {
  let valid = true; try { new RegExp(pattern); } catch (e) { valid = false; }
  regex.push({ pattern, valid, matches: valid ? values.filter((v) => new RegExp(pattern).test(v)) : undefined });
}
fs.writeFileSync('js-regexp.json', JSON.stringify({ generator: 'node ' + process.version + ' (V8 RegExp, no flags)', values, cases: regex }, null, 1) + '\n');
