import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

// The build goes straight into the Python package so that `pip install` ships the app.
const outDir = fileURLToPath(new URL('../plugins/ui/dist', import.meta.url))

export default defineConfig({
  plugins: [vue()],
  base: '/',
  define: {
    // Composition API only: drop the Options API and devtools hooks from the bundle.
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` talks to a locally running `iscc-web` for the API.
    proxy: { '/api': 'http://127.0.0.1:8000', '/docs': 'http://127.0.0.1:8000' },
  },
  test: {
    include: ['tests/**/*.spec.ts'],
    environment: 'node',
  },
})
