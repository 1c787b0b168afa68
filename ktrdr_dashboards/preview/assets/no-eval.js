// The page's Content-Security-Policy forbids eval. zod, which @grafana/data builds its theme
// schemas with, tries eval when a schema is built unless its JIT compilation is off (zod's
// documented `jitless` option). preview.js imports this module first, so it runs before any
// of @grafana/data's modules.
import { config } from "zod";

config({ jitless: true });
