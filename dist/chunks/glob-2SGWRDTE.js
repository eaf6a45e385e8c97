import { createRequire as __tunaCreateRequire } from 'node:module'; const require = __tunaCreateRequire(import.meta.url);
import{a,b}from"./chunk-6WBE2VH7.js";import"./chunk-KXBJMCO7.js";import"./chunk-W2XR572N.js";export{a as create,b as hashFiles};
