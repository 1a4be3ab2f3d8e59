// libyaml for Swift: the document API (yaml_parser_load) and accessors for the node union,
// which Swift imports awkwardly.
#ifndef CYAML_SHIM_H
#define CYAML_SHIM_H
#include <yaml.h>

static inline yaml_node_t *CYAML_node(yaml_document_t *document, int index) {
    return yaml_document_get_node(document, index);
}
static inline const char *CYAML_scalar_value(const yaml_node_t *node) { return (const char *)node->data.scalar.value; }
static inline size_t CYAML_scalar_length(const yaml_node_t *node) { return node->data.scalar.length; }
static inline yaml_scalar_style_t CYAML_scalar_style(const yaml_node_t *node) { return node->data.scalar.style; }
static inline const char *CYAML_tag(const yaml_node_t *node) { return (const char *)node->tag; }
static inline int CYAML_sequence_count(const yaml_node_t *node) {
    return (int)(node->data.sequence.items.top - node->data.sequence.items.start);
}
static inline int CYAML_sequence_item(const yaml_node_t *node, int index) { return node->data.sequence.items.start[index]; }
static inline int CYAML_mapping_count(const yaml_node_t *node) {
    return (int)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
}
static inline int CYAML_mapping_key(const yaml_node_t *node, int index) { return node->data.mapping.pairs.start[index].key; }
static inline int CYAML_mapping_value(const yaml_node_t *node, int index) { return node->data.mapping.pairs.start[index].value; }

#endif
