// The rest of rdma-core 65's libmlx5 API that hcasim does not implement
// (DevX, steering, crypto, signature, scheduling, VFIO, ...): each exists so
// that programs linked BIND_NOW against rdma-core's libmlx5 (python3-pyverbs)
// load, and fails as rdma-core reports an unsupported operation: NULL with
// errno = EOPNOTSUPP, or EOPNOTSUPP.  Prototypes are rdma-core's (checked
// against <infiniband/mlx5dv.h>).  See docs/verbs.md.
#include <infiniband/mlx5dv.h>

#include <cerrno>

#define HCASIM_EXPORT extern "C" __attribute__((visibility("default")))

#pragma GCC diagnostic ignored "-Wunused-parameter"

// Failure bodies, as rdma-core reports an unsupported operation.
#define UNSUPPORTED_PTR { errno = EOPNOTSUPP; return nullptr; }
#define UNSUPPORTED_INT { errno = EOPNOTSUPP; return EOPNOTSUPP; }
#define UNSUPPORTED_MINUS1 { errno = EOPNOTSUPP; return -1; }
#define UNSUPPORTED_ZERO { errno = EOPNOTSUPP; return 0; }

HCASIM_EXPORT struct ibv_flow * __mlx5dv_create_flow(struct mlx5dv_flow_matcher *matcher, struct mlx5dv_flow_match_parameters *match_value, size_t num_actions, struct mlx5dv_flow_action_attr actions_attr[], size_t attr_len) UNSUPPORTED_PTR
HCASIM_EXPORT void _mlx5dv_get_export_sizes(struct mlx5dv_export_sizes *sizes, size_t sizes_len) {}
HCASIM_EXPORT int _mlx5dv_mkey_check(struct mlx5dv_mkey *mkey, struct mlx5dv_mkey_err *err_info, size_t err_info_size) UNSUPPORTED_INT
HCASIM_EXPORT int _mlx5dv_query_port(struct ibv_context *context, uint32_t port_num, struct mlx5dv_port *info, size_t info_len) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_var * mlx5dv_alloc_var(struct ibv_context *context, uint32_t flags) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_cq_ex *mlx5dv_create_cq(struct ibv_context *context, struct ibv_cq_init_attr_ex *cq_attr, struct mlx5dv_cq_init_attr *mlx5_cq_attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_flow_action * mlx5dv_create_flow_action_modify_header(struct ibv_context *ctx, size_t actions_sz, uint64_t actions[], enum mlx5dv_flow_table_type ft_type) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_flow_action * mlx5dv_create_flow_action_packet_reformat(struct ibv_context *ctx, size_t data_sz, void *data, enum mlx5dv_flow_action_packet_reformat_type reformat_type, enum mlx5dv_flow_table_type ft_type) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_flow_matcher * mlx5dv_create_flow_matcher(struct ibv_context *context, struct mlx5dv_flow_matcher_attr *matcher_attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_mkey *mlx5dv_create_mkey(struct mlx5dv_mkey_init_attr *mkey_init_attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct ibv_qp *mlx5dv_create_qp(struct ibv_context *context, struct ibv_qp_init_attr_ex *qp_attr, struct mlx5dv_qp_init_attr *mlx5_qp_attr) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_crypto_login(struct ibv_context *context, struct mlx5dv_crypto_login_attr *login_attr) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_crypto_login_obj * mlx5dv_crypto_login_create(struct ibv_context *context, struct mlx5dv_crypto_login_attr_ex *login_attr) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_crypto_login_destroy(struct mlx5dv_crypto_login_obj *crypto_login) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_crypto_login_query(struct mlx5dv_crypto_login_obj *crypto_login, struct mlx5dv_crypto_login_query_attr *query_attr) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_crypto_login_query_state(struct ibv_context *context, enum mlx5dv_crypto_login_state *state) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_crypto_logout(struct ibv_context *context) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_dci_stream_id_reset(struct ibv_qp *qp, uint16_t stream_id) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_dek *mlx5dv_dek_create(struct ibv_context *context, struct mlx5dv_dek_init_attr *init_attr) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_dek_destroy(struct mlx5dv_dek *dek) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_dek_query(struct mlx5dv_dek *dek, struct mlx5dv_dek_attr *attr) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_destroy_flow_matcher(struct mlx5dv_flow_matcher *matcher) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_destroy_mkey(struct mlx5dv_mkey *mkey) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_devx_msi_vector * mlx5dv_devx_alloc_msi_vector(struct ibv_context *ibctx) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_devx_uar *mlx5dv_devx_alloc_uar(struct ibv_context *context, uint32_t flags) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_devx_cmd_comp * mlx5dv_devx_create_cmd_comp(struct ibv_context *context) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_devx_eq * mlx5dv_devx_create_eq(struct ibv_context *ibctx, const void *in, size_t inlen, void *out, size_t outlen) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_devx_event_channel * mlx5dv_devx_create_event_channel(struct ibv_context *context, enum mlx5dv_devx_create_event_channel_flags flags) UNSUPPORTED_PTR
HCASIM_EXPORT void mlx5dv_devx_destroy_cmd_comp(struct mlx5dv_devx_cmd_comp *cmd_comp) {}
HCASIM_EXPORT int mlx5dv_devx_destroy_eq(struct mlx5dv_devx_eq *eq) UNSUPPORTED_INT
HCASIM_EXPORT void mlx5dv_devx_destroy_event_channel(struct mlx5dv_devx_event_channel *event_channel) {}
HCASIM_EXPORT int mlx5dv_devx_free_msi_vector(struct mlx5dv_devx_msi_vector *msi) UNSUPPORTED_INT
HCASIM_EXPORT void mlx5dv_devx_free_uar(struct mlx5dv_devx_uar *devx_uar) {}
HCASIM_EXPORT int mlx5dv_devx_general_cmd(struct ibv_context *context, const void *in, size_t inlen, void *out, size_t outlen) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_get_async_cmd_comp(struct mlx5dv_devx_cmd_comp *cmd_comp, struct mlx5dv_devx_async_cmd_hdr *cmd_resp, size_t cmd_resp_len) UNSUPPORTED_INT
HCASIM_EXPORT ssize_t mlx5dv_devx_get_event(struct mlx5dv_devx_event_channel *event_channel, struct mlx5dv_devx_async_event_hdr *event_data, size_t event_resp_len) UNSUPPORTED_MINUS1
HCASIM_EXPORT struct mlx5dv_devx_obj * mlx5dv_devx_obj_create(struct ibv_context *context, const void *in, size_t inlen, void *out, size_t outlen) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_devx_obj_destroy(struct mlx5dv_devx_obj *obj) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_obj_export(struct mlx5dv_devx_obj *obj, void *data) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_devx_obj *mlx5dv_devx_obj_import(struct ibv_context *context, void *data) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_devx_obj_modify(struct mlx5dv_devx_obj *obj, const void *in, size_t inlen, void *out, size_t outlen) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_obj_query(struct mlx5dv_devx_obj *obj, const void *in, size_t inlen, void *out, size_t outlen) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_obj_query_async(struct mlx5dv_devx_obj *obj, const void *in, size_t inlen, size_t outlen, uint64_t wr_id, struct mlx5dv_devx_cmd_comp *cmd_comp) UNSUPPORTED_INT
HCASIM_EXPORT void mlx5dv_devx_obj_unimport(struct mlx5dv_devx_obj *obj) {}
HCASIM_EXPORT int mlx5dv_devx_query_eqn(struct ibv_context *context, uint32_t vector, uint32_t *eqn) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_subscribe_devx_event(struct mlx5dv_devx_event_channel *event_channel, struct mlx5dv_devx_obj *obj, uint16_t events_sz, uint16_t events_num[], uint64_t cookie) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_subscribe_devx_event_fd(struct mlx5dv_devx_event_channel *event_channel, int fd, struct mlx5dv_devx_obj *obj, uint16_t event_num) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_uar_export_dmabuf_fd(struct mlx5dv_devx_uar *devx_uar) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_umem_dereg(struct mlx5dv_devx_umem *umem) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_devx_umem_export(struct mlx5dv_devx_umem *umem, void *data) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_devx_umem * mlx5dv_devx_umem_import(struct ibv_context *context, void *data) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_devx_umem * mlx5dv_devx_umem_reg(struct ibv_context *ctx, void *addr, size_t size, uint32_t access) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_devx_umem * mlx5dv_devx_umem_reg_ex(struct ibv_context *ctx, struct mlx5dv_devx_umem_in *umem_in) UNSUPPORTED_PTR
HCASIM_EXPORT void mlx5dv_devx_umem_unimport(struct mlx5dv_devx_umem *umem) {}
HCASIM_EXPORT struct mlx5dv_dr_action *mlx5dv_dr_action_create_default_miss(void) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_dest_array(struct mlx5dv_dr_domain *domain, size_t num_dest, struct mlx5dv_dr_action_dest_attr *dests[]) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_dest_devx_tir(struct mlx5dv_devx_obj *devx_obj) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_dest_ib_port(struct mlx5dv_dr_domain *domain, uint32_t ib_port) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_dest_ibv_qp(struct ibv_qp *ibqp) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_dest_table(struct mlx5dv_dr_table *table) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_dest_vport(struct mlx5dv_dr_domain *domain, uint32_t vport) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action *mlx5dv_dr_action_create_drop(void) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_flow_counter(struct mlx5dv_devx_obj *devx_obj, uint32_t offset) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_flow_meter(struct mlx5dv_dr_flow_meter_attr *attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_flow_sampler(struct mlx5dv_dr_flow_sampler_attr *attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_modify_header(struct mlx5dv_dr_domain *domain, uint32_t flags, size_t actions_sz, __be64 actions[]) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_packet_reformat(struct mlx5dv_dr_domain *domain, uint32_t flags, enum mlx5dv_flow_action_packet_reformat_type reformat_type, size_t data_sz, void *data) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_pop_vlan(void) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action * mlx5dv_dr_action_create_push_vlan(struct mlx5dv_dr_domain *domain, __be32 vlan_hdr) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_dr_action *mlx5dv_dr_action_create_tag(uint32_t tag_value) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_dr_action_destroy(struct mlx5dv_dr_action *action) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_dr_action_modify_flow_meter(struct mlx5dv_dr_action *action, struct mlx5dv_dr_flow_meter_attr *attr, __be64 modify_field_select) UNSUPPORTED_INT
HCASIM_EXPORT void mlx5dv_dr_domain_allow_duplicate_rules(struct mlx5dv_dr_domain *domain, bool allow) {}
HCASIM_EXPORT struct mlx5dv_dr_domain * mlx5dv_dr_domain_create(struct ibv_context *ctx, enum mlx5dv_dr_domain_type type) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_dr_domain_destroy(struct mlx5dv_dr_domain *domain) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_dr_domain_sync(struct mlx5dv_dr_domain *domain, uint32_t flags) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_dr_matcher * mlx5dv_dr_matcher_create(struct mlx5dv_dr_table *table, uint16_t priority, uint8_t match_criteria_enable, struct mlx5dv_flow_match_parameters *mask) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_dr_matcher_destroy(struct mlx5dv_dr_matcher *matcher) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_dr_matcher_set_layout(struct mlx5dv_dr_matcher *matcher, struct mlx5dv_dr_matcher_layout *layout) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_dr_rule * mlx5dv_dr_rule_create(struct mlx5dv_dr_matcher *matcher, struct mlx5dv_flow_match_parameters *value, size_t num_actions, struct mlx5dv_dr_action *actions[]) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_dr_rule_destroy(struct mlx5dv_dr_rule *rule) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_dr_table * mlx5dv_dr_table_create(struct mlx5dv_dr_domain *domain, uint32_t level) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_dr_table_destroy(struct mlx5dv_dr_table *table) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_dump_dr_domain(FILE *fout, struct mlx5dv_dr_domain *domain) UNSUPPORTED_INT
HCASIM_EXPORT void mlx5dv_free_var(struct mlx5dv_var *dv_var) {}
HCASIM_EXPORT int mlx5dv_get_clock_info(struct ibv_context *context, struct mlx5dv_clock_info *clock_info) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_get_data_direct_sysfs_path(struct ibv_context *context, char *buf, size_t buf_len) UNSUPPORTED_INT
HCASIM_EXPORT struct ibv_device ** mlx5dv_get_vfio_device_list(struct mlx5dv_vfio_context_attr *attr) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_map_ah_to_qp(struct ibv_ah *ah, uint32_t qp_num) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_modify_qp_lag_port(struct ibv_qp *qp, uint8_t port_num) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_modify_qp_sched_elem(struct ibv_qp *qp, const struct mlx5dv_sched_leaf *requestor, const struct mlx5dv_sched_leaf *responder) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_modify_qp_udp_sport(struct ibv_qp *qp, uint16_t udp_sport) UNSUPPORTED_INT
HCASIM_EXPORT struct ibv_context * mlx5dv_open_device(struct ibv_device *device, struct mlx5dv_context_attr *attr) UNSUPPORTED_PTR
HCASIM_EXPORT struct mlx5dv_pp *mlx5dv_pp_alloc(struct ibv_context *context, size_t pp_context_sz, const void *pp_context, uint32_t flags) UNSUPPORTED_PTR
HCASIM_EXPORT void mlx5dv_pp_free(struct mlx5dv_pp *pp) {}
HCASIM_EXPORT int mlx5dv_qp_cancel_posted_send_wrs(struct mlx5dv_qp_ex *mqp, uint64_t wr_id) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_qp_ex *mlx5dv_qp_ex_from_ibv_qp_ex(struct ibv_qp_ex *qp) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_query_qp_lag_port(struct ibv_qp *qp, uint8_t *port_num, uint8_t *active_port_num) UNSUPPORTED_INT
HCASIM_EXPORT struct ibv_mr *mlx5dv_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset, size_t length, uint64_t iova, int fd, int access, int mlx5_access) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_reserved_qpn_alloc(struct ibv_context *ctx, uint32_t *qpn) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_reserved_qpn_dealloc(struct ibv_context *ctx, uint32_t qpn) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_sched_leaf * mlx5dv_sched_leaf_create(struct ibv_context *context, const struct mlx5dv_sched_attr *sched_attr) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_sched_leaf_destroy(struct mlx5dv_sched_leaf *leaf) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_sched_leaf_modify(struct mlx5dv_sched_leaf *leaf, const struct mlx5dv_sched_attr *sched_attr) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_sched_node * mlx5dv_sched_node_create(struct ibv_context *context, const struct mlx5dv_sched_attr *sched_attr) UNSUPPORTED_PTR
HCASIM_EXPORT int mlx5dv_sched_node_destroy(struct mlx5dv_sched_node *node) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_sched_node_modify(struct mlx5dv_sched_node *node, const struct mlx5dv_sched_attr *sched_attr) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_var_export(struct mlx5dv_var *dv_var, void *data) UNSUPPORTED_INT
HCASIM_EXPORT struct mlx5dv_var *mlx5dv_var_import(struct ibv_context *context, void *data) UNSUPPORTED_PTR
HCASIM_EXPORT void mlx5dv_var_unimport(struct mlx5dv_var *dv_var) {}
HCASIM_EXPORT int mlx5dv_vfio_get_events_fd(struct ibv_context *ibctx) UNSUPPORTED_INT
HCASIM_EXPORT int mlx5dv_vfio_process_events(struct ibv_context *context) UNSUPPORTED_INT
