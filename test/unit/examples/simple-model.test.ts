/**
 * examples/model_repository/simple/1/model.onnx is committed (users installing the package
 * have no devDependencies to build it): it must stay the Add/Sub graph the fixture builds.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { addSubModel } from '../../fixtures/onnx-models.js';

test('the committed simple model is addSubModel(INT32, [batch, 16]), byte for byte', () => {
  const committed = readFileSync('examples/model_repository/simple/1/model.onnx');
  expect(committed.byteLength).toBeLessThan(1024);
  expect(Buffer.from(addSubModel('INT32', ['batch', 16])).equals(committed)).toBe(true);
});
