"""Authoring tools: create entries (`new`) and knowledge bases (`init`), format front matter
(`fmt`), generate CODEOWNERS (`owners`), and preview the site while editing (`serve`).

Unlike the compiler stages, these modules write files; each writes only what it was asked to
and never overwrites a file it did not mean to change.
"""
