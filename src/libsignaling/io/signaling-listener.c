/* signaling-listener.c: the listening sockets of a SoupServer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "Signaling-io"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <glib/gi18n-lib.h>

#include "signaling-listener-private.h"
#include "signaling-soup-workarounds-private.h"

/*
 * SignalingListener:
 *
 * Opens the listening sockets (or takes one from systemd) and hands
 * them to whoever accepts on them: our SignalingAcceptor, or, in a
 * build without the libsoup workarounds, the SoupServer itself (see
 * signaling-soup-workarounds-private.h).
 */
struct _SignalingListener
{
  GObject parent_instance;

  SoupServer *soup_server;     /* unowned: our owner owns it too */
  SignalingAcceptor *acceptor; /* NULL when libsoup listens itself */
  GPtrArray *sockets;          /* GSocket *, listening */
  gboolean reuse_port;         /* SO_REUSEPORT on the sockets we bind */
  gboolean tls;                /* serving https:// and wss:// */
};

G_DEFINE_FINAL_TYPE (SignalingListener, signaling_listener, G_TYPE_OBJECT)

/* Node listens with a backlog of 511; GSocket's default of 10 drops
 * the SYNs of a burst of connections (long-polling clients open one
 * per request), and each dropped one costs its client a second. */
#define LISTEN_BACKLOG 1024

static void
signaling_listener_dispose (GObject *object)
{
  SignalingListener *self = SIGNALING_LISTENER (object);

  if (self->acceptor != NULL)
    signaling_acceptor_close (self->acceptor);
  g_clear_object (&self->acceptor);

  G_OBJECT_CLASS (signaling_listener_parent_class)->dispose (object);
}

static void
signaling_listener_finalize (GObject *object)
{
  SignalingListener *self = SIGNALING_LISTENER (object);

  g_ptr_array_unref (self->sockets);

  G_OBJECT_CLASS (signaling_listener_parent_class)->finalize (object);
}

static void
signaling_listener_class_init (SignalingListenerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signaling_listener_dispose;
  object_class->finalize = signaling_listener_finalize;
}

static void
signaling_listener_init (SignalingListener *self)
{
  self->sockets = g_ptr_array_new_with_free_func (g_object_unref);
}

/*
 * signaling_listener_new:
 * @soup_server: the server to feed; must outlive the listener
 */
SignalingListener *
signaling_listener_new (SoupServer *soup_server)
{
  SignalingListener *self = g_object_new (SIGNALING_TYPE_LISTENER, NULL);

  self->soup_server = soup_server;
#if SIGNALING_SOUP_WORKAROUNDS
  self->acceptor = signaling_acceptor_new (soup_server);
#endif
  return self;
}

/*
 * signaling_listener_get_acceptor:
 *
 * Returns: (transfer none) (nullable): the acceptor, or %NULL in a
 *   build where libsoup accepts connections itself
 */
SignalingAcceptor *
signaling_listener_get_acceptor (SignalingListener *self)
{
  g_return_val_if_fail (SIGNALING_IS_LISTENER (self), NULL);
  return self->acceptor;
}

/* Whether sockets bound from now on share their port with other
 * processes that ask for the same (SO_REUSEPORT). */
void
signaling_listener_set_reuse_port (SignalingListener *self,
                                   gboolean           reuse_port)
{
  self->reuse_port = reuse_port;
}

gboolean
signaling_listener_get_reuse_port (SignalingListener *self)
{
  return self->reuse_port;
}

/*
 * signaling_listener_set_tls_certificate:
 * @certificate: (nullable): the certificate and key to serve TLS with,
 *   or %NULL for plain HTTP
 *
 * Every listening socket serves TLS with @certificate, or a newer one
 * after a reload: connections accepted from now on are handshaken with
 * it, and those already open keep theirs. When libsoup listens itself
 * (no acceptor), it takes the certificate from the server's
 * #SoupServer:tls-certificate, which its listeners follow, and a
 * socket must be added after the first certificate to serve TLS.
 */
void
signaling_listener_set_tls_certificate (SignalingListener *self,
                                        GTlsCertificate   *certificate)
{
  g_return_if_fail (SIGNALING_IS_LISTENER (self));

  self->tls = certificate != NULL;
  if (self->acceptor != NULL)
    signaling_acceptor_set_tls_certificate (self->acceptor, certificate);
  else
    soup_server_set_tls_certificate (self->soup_server, certificate);
}

/*
 * signaling_listener_add_socket:
 * @socket: a bound, listening socket
 */
gboolean
signaling_listener_add_socket (SignalingListener  *self,
                               GSocket            *socket,
                               GError            **error)
{
  g_return_val_if_fail (SIGNALING_IS_LISTENER (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET (socket), FALSE);

  if (self->acceptor != NULL)
    {
      if (!signaling_acceptor_add_socket (self->acceptor, socket, error))
        return FALSE;
    }
  else if (!soup_server_listen_socket (self->soup_server, socket,
                                       self->tls ? SOUP_SERVER_LISTEN_HTTPS : 0, error))
    return FALSE;

  g_ptr_array_add (self->sockets, g_object_ref (socket));
  return TRUE;
}

/* Binds with SO_REUSEPORT: several processes on one port, the kernel
 * spreading connections among them (a cluster's nodes on one host).
 * g_socket_bind() cannot: it turns SO_REUSEPORT off on TCP sockets. */
static gboolean
bind_shared (GSocket         *socket,
             GSocketAddress  *address,
             GError         **error)
{
  struct sockaddr_storage native;
  gsize length = g_socket_address_get_native_size (address);

  if (!g_socket_set_option (socket, SOL_SOCKET, SO_REUSEADDR, 1, error) ||
      !g_socket_set_option (socket, SOL_SOCKET, SO_REUSEPORT, 1, error) ||
      !g_socket_address_to_native (address, &native, sizeof native, error))
    return FALSE;

  if (bind (g_socket_get_fd (socket), (struct sockaddr *) &native, length) < 0)
    {
      int saved = errno;
      g_autofree char *where = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Error binding to address %s: %s"), where, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
listen_on (SignalingListener  *self,
           GInetAddress       *address,
           guint              *port,
           GError            **error)
{
  GSocketFamily family = g_inet_address_get_family (address);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (address, *port);
  g_autoptr(GSocketAddress) bound = NULL;

  socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;

  /* IPv4 and IPv6 each get their own socket, as libsoup does. */
  if (family == G_SOCKET_FAMILY_IPV6 && !g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
    return FALSE;

  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!(self->reuse_port ? bind_shared (socket, socket_address, error)
                         : g_socket_bind (socket, socket_address, TRUE, error)) ||
      !g_socket_listen (socket, error))
    return FALSE;

  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return FALSE;
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  return signaling_listener_add_socket (self, socket, error);
}

/*
 * signaling_listener_listen_loopback:
 * @port: (out): the port it got
 *
 * Listens on a free port of 127.0.0.1 too: a cluster node's private
 * listener, where the nodes on its host pass it their polling requests
 * for its sessions.
 */
gboolean
signaling_listener_listen_loopback (SignalingListener  *self,
                                    guint              *port,
                                    GError            **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  *port = 0;
  return listen_on (self, loopback, port, error);
}

/* IPv4 and IPv6 on the same port; a machine without IPv6 still serves
 * IPv4, but a port taken on either is an error. */
static gboolean
listen_on_all_interfaces (SignalingListener  *self,
                          guint               port,
                          GError            **error)
{
  g_autoptr(GInetAddress) any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GInetAddress) any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GError) ipv6_error = NULL;

  if (!listen_on (self, any4, &port, error))
    return FALSE;

  if (!listen_on (self, any6, &port, &ipv6_error))
    {
      if (g_error_matches (ipv6_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        {
          g_propagate_error (error, g_steal_pointer (&ipv6_error));
          return FALSE;
        }
      g_debug ("Not listening on IPv6: %s", ipv6_error->message);
    }

  return TRUE;
}

/*
 * signaling_listener_listen:
 * @address: (nullable): an IP address, or %NULL or "" for all
 *   interfaces (IPv4 and IPv6)
 * @port: a TCP port, or 0 to pick a free one
 */
gboolean
signaling_listener_listen (SignalingListener  *self,
                           const char         *address,
                           guint               port,
                           GError            **error)
{
  g_autoptr(GInetAddress) inet_address = NULL;

  g_return_val_if_fail (SIGNALING_IS_LISTENER (self), FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);

  if (address == NULL || *address == '\0')
    return listen_on_all_interfaces (self, port, error);

  inet_address = g_inet_address_new_from_string (address);
  if (inet_address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an IP address"), address);
      return FALSE;
    }

  return listen_on (self, inet_address, &port, error);
}

/*
 * signaling_listener_dup_uris:
 *
 * Returns: (transfer full) (element-type GUri): the base URIs of the
 *   listening sockets, in the order they were added
 */
GSList *
signaling_listener_dup_uris (SignalingListener *self)
{
  GSList *uris = NULL;

  g_return_val_if_fail (SIGNALING_IS_LISTENER (self), NULL);

  for (guint i = self->sockets->len; i > 0; i--)
    {
      g_autoptr(GSocketAddress) address = g_socket_get_local_address (g_ptr_array_index (self->sockets, i - 1), NULL);
      g_autofree char *host = NULL;

      if (!G_IS_INET_SOCKET_ADDRESS (address))
        continue;

      host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
      uris = g_slist_prepend (uris, g_uri_build (G_URI_FLAGS_NONE, self->tls ? "https" : "http", NULL, host,
                                                 g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)),
                                                 "/", NULL, NULL));
    }

  return uris;
}

/*
 * signaling_listener_dup_addresses:
 *
 * Returns: (transfer full): the listening addresses as `host:port`
 *   (IPv6 hosts in brackets)
 */
char **
signaling_listener_dup_addresses (SignalingListener *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (SIGNALING_IS_LISTENER (self), NULL);

  for (guint i = 0; i < self->sockets->len; i++)
    {
      g_autoptr(GSocketAddress) address = g_socket_get_local_address (g_ptr_array_index (self->sockets, i), NULL);
      g_autofree char *text = NULL;

      if (address == NULL)
        continue;

      text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));
      g_strv_builder_add (builder, text);
    }

  return g_strv_builder_end (builder);
}

/*
 * signaling_listener_close:
 *
 * Stops accepting; connections already accepted go on. When libsoup
 * listens itself it offers no way to stop listening without dropping
 * every connection (soup_server_disconnect()), so the sockets stay
 * open until the server goes; new peers are refused by the dialects
 * meanwhile.
 */
void
signaling_listener_close (SignalingListener *self)
{
  g_return_if_fail (SIGNALING_IS_LISTENER (self));

  if (self->acceptor == NULL)
    return;
  signaling_acceptor_close (self->acceptor);
  g_ptr_array_set_size (self->sockets, 0);
}
