export { PythonBackend } from './python-backend.js';
export type { PythonBackendServices } from './services.js';
