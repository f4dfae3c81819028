// Two pages: `index.html` uses the library without React, `react.html` its hooks. The manifest tells the
// test which chunks each page loads (the plain page must load no React).
import { defineConfig } from "vite";

export default defineConfig({
  logLevel: "warn",
  build: {
    manifest: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { plain: "index.html", react: "react.html" } },
  },
});
