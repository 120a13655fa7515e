// Prettier for the addons' XML, JS and SCSS: the OCA template's settings (Odoo 18+), at this
// repository's line length. require.resolve finds the plugin in pre-commit's node environment.
/** @type {import('prettier').Config} */
const config = {
    plugins: [require.resolve("@prettier/plugin-xml")],
    bracketSpacing: false,
    printWidth: 110,
    proseWrap: "always",
    semi: true,
    tabWidth: 4,
    trailingComma: "es5",
    // Keep the text of XML nodes as written: data files hold prompts and descriptions whose
    // whitespace is their value.
    xmlWhitespaceSensitivity: "preserve",
};

module.exports = config;
