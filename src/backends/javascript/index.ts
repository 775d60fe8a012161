export { JavaScriptBackend, JAVASCRIPT_BACKEND, autoCompleteJavaScriptConfig, type JavaScriptBackendServices } from './javascript-backend.js';
export type * from './model-api.js';
