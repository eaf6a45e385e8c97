import { createRequire as __tunaCreateRequire } from 'node:module'; const require = __tunaCreateRequire(import.meta.url);
import{a,b}from"./chunk-56Q4XKMI.js";import"./chunk-Y6NINHWU.js";import"./chunk-W2XR572N.js";export{a as create,b as hashFiles};
