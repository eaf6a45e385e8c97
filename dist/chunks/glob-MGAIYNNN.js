import { createRequire as __tunaCreateRequire } from 'node:module'; const require = __tunaCreateRequire(import.meta.url);
import{a,b}from"./chunk-DH4ZPRML.js";import"./chunk-ZZVID72E.js";import"./chunk-W2XR572N.js";export{a as create,b as hashFiles};
