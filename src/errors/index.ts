export * from './triton-error.js';
export * from './status-map.js';
