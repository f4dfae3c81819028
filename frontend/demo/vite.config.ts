import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `vite build` writes dist/, which the web backend (`python -m worker web`) serves at http://localhost:8080.
// `vite` (dev) proxies /api to that backend.
const backend = process.env["ROLECALL_WEB_URL"] ?? "http://localhost:8080";

export default defineConfig({
  plugins: [react()],
  server: { port: 5173, proxy: { "/api": { target: backend, changeOrigin: true } } },
  preview: { proxy: { "/api": { target: backend, changeOrigin: true } } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1200 },
  test: { environment: "node", include: ["test/**/*.test.{ts,tsx}"] },
});
