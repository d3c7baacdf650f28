import { createApp } from 'vue'
import App from './App.vue'
import { readRuntimeConfig } from './lib/config'
import './style.css'

declare global {
  interface Window {
    __ISCC_WEB__?: unknown
  }
}

createApp(App, { config: readRuntimeConfig(window.__ISCC_WEB__) }).mount('#app')
