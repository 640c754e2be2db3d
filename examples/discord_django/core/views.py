"""The guide's DRF views (sections 2, 3 and 5), as written; only the imports are this project's."""
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from core.cpp_integration import leaderboard, processor
from core.models import User

# --- guide: section 2 "Fast leaderboard queries" -----------------------------------------------

# Fast leaderboard queries
@api_view(['GET'])
def leaderboard_view(request):
    limit = int(request.GET.get('limit', 10))
    
    # <60µs query time!
    top_users = leaderboard.get_top_users(limit)
    
    # Enrich with display names from database
    discord_ids = [u['user_id'] for u in top_users]
    users = User.objects.filter(discord_id__in=discord_ids).values('discord_id', 'display_name', 'university')
    user_map = {u['discord_id']: u for u in users}
    
    # Merge data
    results = []
    for entry in top_users:
        user_data = user_map.get(entry['user_id'], {})
        results.append({
            'rank': entry['rank'],
            'discord_id': entry['user_id'],
            'score': entry['score'],
            'display_name': user_data.get('display_name', 'Unknown'),
            'university': user_data.get('university', ''),
        })
    
    return Response(results)

@api_view(['GET'])
def user_rank(request, discord_id):
    """Get specific user's rank - O(log n)"""
    rank_info = leaderboard.get_user_rank(discord_id)
    
    if rank_info is None:
        return Response({'error': 'User not found'}, status=404)
    
    return Response(rank_info)

# --- guide: section 3 "Combined Real-Time Dashboard" -------------------------------------------

@api_view(['GET'])
def dashboard_stats(request):
    """Real-time engagement metrics powered by C++ extensions"""
    
    return Response({
        # From event processor
        'unique_active_users_last_hour': processor.get_unique_users_last_hour(),
        'top_channels': [
            {'channel_id': ch[0], 'message_count': ch[1]}
            for ch in processor.get_top_channels(5)
        ],
        'total_events_processed': processor.total_events_processed(),
        
        # From leaderboard
        'top_contributors': leaderboard.get_top_users(10),
        'total_ranked_users': leaderboard.size(),
    })

# --- guide: section 5 "Performance Monitoring" -------------------------------------------------

@api_view(['GET'])
@permission_classes([IsAdminUser])
def cpp_stats(request):
    """Monitor C++ extension performance"""
    return Response({
        'event_processor': {
            'total_processed': processor.total_events_processed(),
            'dropped': processor.events_dropped(),
            'drop_rate': processor.events_dropped() / max(processor.total_events_processed(), 1),
        },
        'leaderboard': {
            'size': leaderboard.size(),
            'decay_factor': 0.95,  # From init
        }
    })

# --- end of the guide's code -------------------------------------------------------------------
