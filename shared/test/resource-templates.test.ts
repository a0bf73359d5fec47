import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitsTemplate } from '../src/mcp.js';

describe('a URI against a resource template', () => {
  it('fits when each variable stands for one character or more, and the literals are in place', () => {
    assert.equal(fitsTemplate('spectrum://knowledge/{id}', 'spectrum://knowledge/12'), true);
    assert.equal(fitsTemplate('spectrum://knowledge/{id}', 'spectrum://knowledge/'), false);
    assert.equal(fitsTemplate('repo://{owner}/{name}/readme', 'repo://a/b/readme'), true);
    assert.equal(fitsTemplate('repo://{owner}/{name}/readme', 'repo://a/readme'), false);
    assert.equal(fitsTemplate('repo://{owner}/{name}/readme', 'repo://a/b/c/readme'), true);
    assert.equal(fitsTemplate('file:///{path}', 'http://x/y'), false);
    assert.equal(fitsTemplate('static://about', 'static://about'), true);
  });

  it('answers for a template of many variables and a long URI, where a regular expression would backtrack for ever', () => {
    const template = `x${'{v}a'.repeat(40)}`;
    const uri = `x${'a'.repeat(5_000)}b`;
    assert.equal(fitsTemplate(template, uri), false);
  });
});
