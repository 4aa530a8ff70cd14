// Builds dist/ from src/ and pages/: the TypeScript bundled and minified by
// esbuild (pinned in package-lock.json), the pages and the vendored Redoc
// copied. dist/ is committed and embedded in the binary (web.go);
// web/dist_test.go builds again into a temporary folder and fails when the
// committed copy differs. Usage: node build.mjs [outdir]
import { build } from "esbuild";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const out = process.argv[2] ?? join(here, "dist");
const assets = join(out, "assets");

await rm(out, { recursive: true, force: true });
await mkdir(assets, { recursive: true });
await build({
  absWorkingDir: here,
  entryPoints: { storefront: "src/storefront/main.ts", console: "src/console/main.ts", style: "src/style.css" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: assets,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
for (const page of await readdir(join(here, "pages"))) await copyFile(join(here, "pages", page), join(out, page));
await writeFile(join(assets, "redoc.standalone.js"), patched(await readFile(join(here, "node_modules/redoc/bundles/redoc.standalone.js"), "utf8")));
await copyFile(join(here, "node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt"), join(assets, "redoc.standalone.js.LICENSE.txt"));

// patched is Redoc's bundle changed where it would break the page's policy;
// each change must match exactly once, so a new Redoc version fails the
// build instead of slipping through.
function patched(bundle) {
  return [
    // The nonce: Redoc's style elements carry its script element's nonce.
    // Redoc's styles come from styled-components and style-loader, which
    // tag each <style> with webpack's nonce (__webpack_require__.nc); the
    // bundle sets it to undefined as it starts, before anything reads it,
    // so the style elements made while it loads would be refused by a
    // policy without 'unsafe-inline'. It starts as the nonce of the
    // <script> that loads the bundle instead (docs.html gives it the
    // answer's nonce), so the page's policy allows exactly those styles.
    ["r.nc=void 0", "r.nc=document.currentScript&&document.currentScript.nonce||void 0"],
    // The sidebar's "API docs by Redocly" logo is an image on Redocly's
    // CDN: the link stays, the image from another origin goes.
    ['e?n.createElement("img",{alt:"redocly logo",onError:()=>t(!1),src:"https://cdn.redoc.ly/redoc/logo-mini.svg"}):null', "null"],
  ].reduce((text, [from, to]) => once(text, from, to), bundle);
}

function once(text, from, to) {
  const count = text.split(from).length - 1;
  if (count !== 1) throw new Error(`redoc.standalone.js: expected ${from} once, found it ${count} times (another Redoc version?)`);
  return text.replace(from, () => to);
}
